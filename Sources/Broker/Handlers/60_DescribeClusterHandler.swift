import KafkaProtocol
import KafkaSecurity

/// 60 DescribeCluster: the one broker, which is also the controller.
struct DescribeClusterHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: DescribeClusterRequest, context: RequestContext) async -> DescribeClusterResponse {
        let listener = broker.config.listener(named: context.listenerName)
        guard context.allowsCluster(.describe) else {
            return DescribeClusterResponse(errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
        }
        return DescribeClusterResponse(
            endpointType: request.endpointType,
            clusterId: broker.clusterId,
            controllerId: broker.nodeId,
            brokers: [.init(brokerId: broker.nodeId, host: listener.advertisedHost, port: Int32(listener.advertisedPort), rack: nil)]
        )
    }
}
