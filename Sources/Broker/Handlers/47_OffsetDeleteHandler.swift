import KafkaProtocol

/// 47 OffsetDelete: forgets committed offsets of topics the group no longer subscribes to.
struct OffsetDeleteHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: OffsetDeleteRequest, context: RequestContext) async -> OffsetDeleteResponse {
        let (code, topics) = await groups.deleteOffsets(request.groupId, topics: request.topics.map { ($0.name, $0.partitions.map(\.partitionIndex)) })
        return OffsetDeleteResponse(errorCode: code.rawValue, topics: topics.map { name, partitions in
            .init(name: name, partitions: partitions.map { .init(partitionIndex: $0.0, errorCode: $0.1.rawValue) })
        })
    }
}
