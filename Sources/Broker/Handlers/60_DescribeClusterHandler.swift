import KafkaProtocol

/// 60 DescribeCluster: the one broker, which is also the controller.
struct DescribeClusterHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: DescribeClusterRequest, context: RequestContext) async -> DescribeClusterResponse {
        DescribeClusterResponse(
            endpointType: request.endpointType,
            clusterId: broker.clusterId,
            controllerId: broker.nodeId,
            brokers: [.init(brokerId: broker.nodeId, host: broker.config.advertisedHost, port: Int32(broker.config.advertisedPort), rack: nil)]
        )
    }
}
