import KafkaProtocol
import KafkaSecurity

/// 13 LeaveGroup: one member (v0–2) or a batch by member or instance id (v3+, KIP-345).
struct LeaveGroupHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: LeaveGroupRequest, context: RequestContext) async -> LeaveGroupResponse {
        guard context.allows(.read, .group, request.groupId) else { return LeaveGroupResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue) }
        return await groups.leave(request, version: context.apiVersion)
    }
}
