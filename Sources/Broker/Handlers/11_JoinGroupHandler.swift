import KafkaProtocol
import KafkaSecurity

/// 11 JoinGroup: parks until the group's join phase completes (see `GroupCoordinator`).
struct JoinGroupHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: JoinGroupRequest, context: RequestContext) async -> JoinGroupResponse {
        guard context.allows(.read, .group, request.groupId) else { return JoinGroupResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue, memberId: request.memberId) }
        return await context.parked { await groups.join(request, version: context.apiVersion, clientId: context.clientId ?? "", clientHost: context.clientHost) }
    }
}
