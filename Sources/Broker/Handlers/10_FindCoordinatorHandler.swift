import KafkaProtocol

/// 10 FindCoordinator: on a single-node site this broker coordinates every group. Transaction
/// coordination (key type 1) is not offered yet, so those lookups get COORDINATOR_NOT_AVAILABLE.
struct FindCoordinatorHandler: ApiHandler {
    let broker: BrokerContext

    static let groupKeyType: Int8 = 0

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> FindCoordinatorResponse {
        let host = broker.config.advertisedHost
        let port = Int32(broker.config.advertisedPort)
        let available = request.keyType == Self.groupKeyType
        let error: ErrorCode = available ? .noError : .coordinatorNotAvailable
        if context.apiVersion >= 4 {
            return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map { key in
                available
                    ? .init(key: key, nodeId: broker.nodeId, host: host, port: port, errorCode: 0, errorMessage: nil)
                    : .init(key: key, nodeId: -1, host: "", port: -1, errorCode: error.rawValue, errorMessage: "transactions are not supported yet")
            })
        }
        return available
            ? FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: broker.nodeId, host: host, port: port)
            : FindCoordinatorResponse(errorCode: error.rawValue, errorMessage: "transactions are not supported yet", nodeId: -1, host: "", port: -1)
    }
}
