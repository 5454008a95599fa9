import KafkaProtocol
import KafkaSecurity

/// 14 SyncGroup: the leader hands in the assignment; everyone receives their part.
struct SyncGroupHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: SyncGroupRequest, context: RequestContext) async -> SyncGroupResponse {
        guard context.allows(.read, .group, request.groupId) else { return SyncGroupResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue) }
        return await context.parked { await groups.sync(request) }
    }
}
