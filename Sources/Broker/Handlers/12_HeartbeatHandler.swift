import KafkaProtocol
import KafkaSecurity

/// 12 Heartbeat: keeps a member's session alive and tells it when to rejoin.
struct HeartbeatHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: HeartbeatRequest, context: RequestContext) async -> HeartbeatResponse {
        guard context.allows(.read, .group, request.groupId) else { return HeartbeatResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue) }
        return await groups.heartbeat(request)
    }
}
