import KafkaProtocol
import KafkaSecurity

/// 47 OffsetDelete: forgets committed offsets of topics the group no longer subscribes to.
struct OffsetDeleteHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: OffsetDeleteRequest, context: RequestContext) async -> OffsetDeleteResponse {
        guard context.allows(.delete, .group, request.groupId) else { return OffsetDeleteResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue) }
        let readable = request.topics.filter { context.allows(.read, .topic, $0.name) }
        let (code, topics) = await groups.deleteOffsets(request.groupId, topics: readable.map { ($0.name, $0.partitions.map(\.partitionIndex)) })
        let denied = request.topics.filter { !context.allows(.read, .topic, $0.name) }.map { topic in
            OffsetDeleteResponse.OffsetDeleteResponseTopic(name: topic.name, partitions: topic.partitions.map {
                .init(partitionIndex: $0.partitionIndex, errorCode: ErrorCode.topicAuthorizationFailed.rawValue)
            })
        }
        return OffsetDeleteResponse(errorCode: code.rawValue, topics: topics.map { name, partitions in
            .init(name: name, partitions: partitions.map { .init(partitionIndex: $0.0, errorCode: $0.1.rawValue) })
        } + denied)
    }
}
