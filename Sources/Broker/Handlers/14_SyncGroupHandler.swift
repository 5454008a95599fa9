import KafkaProtocol

/// 14 SyncGroup: the leader hands in the assignment; everyone receives their part.
struct SyncGroupHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: SyncGroupRequest, context: RequestContext) async -> SyncGroupResponse {
        await groups.sync(request)
    }
}
