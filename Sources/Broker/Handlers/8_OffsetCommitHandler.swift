import KafkaProtocol

/// 8 OffsetCommit: by a group member of the current generation, or by a memberless client
/// (generation -1) into a group without members.
struct OffsetCommitHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async -> OffsetCommitResponse {
        await groups.commit(request, version: context.apiVersion)
    }
}
