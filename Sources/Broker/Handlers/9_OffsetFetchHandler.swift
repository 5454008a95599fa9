import KafkaProtocol
import KafkaSecurity

/// 9 OffsetFetch: committed offsets of one group (v1–7) or several (v8); -1 where none.
struct OffsetFetchHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async -> OffsetFetchResponse {
        if context.apiVersion >= 8 {
            var results: [OffsetFetchResponse.OffsetFetchResponseGroup] = []
            for group in request.groups {
                guard context.allows(.describe, .group, group.groupId) else {
                    results.append(.init(groupId: group.groupId, errorCode: ErrorCode.groupAuthorizationFailed.rawValue))
                    continue
                }
                let fetched = await groups.fetchOffsets(groupId: group.groupId, topics: group.topics?.map { ($0.name, $0.partitionIndexes) })
                    .filter { context.allows(.describe, .topic, $0.topic) }
                results.append(.init(groupId: group.groupId, topics: fetched.map { topic in
                    .init(name: topic.topic, partitions: topic.partitions.map { partition, committed in
                        .init(partitionIndex: partition, committedOffset: committed?.offset ?? -1, committedLeaderEpoch: committed?.leaderEpoch ?? -1,
                              metadata: committed?.metadata ?? "", errorCode: 0)
                    })
                }))
            }
            return OffsetFetchResponse(groups: results)
        }
        guard context.allows(.describe, .group, request.groupId) else {
            return OffsetFetchResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue)
        }
        let fetched = await groups.fetchOffsets(groupId: request.groupId, topics: request.topics?.map { ($0.name, $0.partitionIndexes) })
            .filter { context.allows(.describe, .topic, $0.topic) }
        return OffsetFetchResponse(topics: fetched.map { topic in
            .init(name: topic.topic, partitions: topic.partitions.map { partition, committed in
                .init(partitionIndex: partition, committedOffset: committed?.offset ?? -1, committedLeaderEpoch: committed?.leaderEpoch ?? -1,
                      metadata: committed?.metadata ?? "", errorCode: 0)
            })
        })
    }
}
