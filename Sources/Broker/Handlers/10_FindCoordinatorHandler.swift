import KafkaProtocol
import KafkaSecurity

/// 10 FindCoordinator: on a single-node site this broker coordinates every group (key type 0)
/// and every transactional id (1).
struct FindCoordinatorHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async -> FindCoordinatorResponse {
        let listener = broker.config.listener(named: context.listenerName)
        let host = listener.advertisedHost
        let port = Int32(listener.advertisedPort)
        let available = request.keyType == 0 || request.keyType == 1
        let error: ErrorCode = available ? .noError : .coordinatorNotAvailable
        func denial(_ key: String) -> ErrorCode? {
            switch request.keyType {
            case 0: return context.allows(.describe, .group, key) ? nil : .groupAuthorizationFailed
            case 1: return context.allows(.describe, .transactionalId, key) ? nil : .transactionalIdAuthorizationFailed
            default: return nil
            }
        }
        if context.apiVersion >= 4 {
            return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map { key in
                if let denied = denial(key) {
                    return .init(key: key, nodeId: -1, host: "", port: -1, errorCode: denied.rawValue, errorMessage: nil)
                }
                return available
                    ? .init(key: key, nodeId: broker.nodeId, host: host, port: port, errorCode: 0, errorMessage: nil)
                    : .init(key: key, nodeId: -1, host: "", port: -1, errorCode: error.rawValue, errorMessage: "unknown coordinator key type \(request.keyType)")
            })
        }
        if let denied = denial(request.key) {
            return FindCoordinatorResponse(errorCode: denied.rawValue, errorMessage: nil, nodeId: -1, host: "", port: -1)
        }
        return available
            ? FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: broker.nodeId, host: host, port: port)
            : FindCoordinatorResponse(errorCode: error.rawValue, errorMessage: "unknown coordinator key type \(request.keyType)", nodeId: -1, host: "", port: -1)
    }
}
