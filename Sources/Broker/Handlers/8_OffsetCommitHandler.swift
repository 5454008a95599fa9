import KafkaProtocol
import KafkaSecurity

/// 8 OffsetCommit: by a group member of the current generation, or by a memberless client
/// (generation -1) into a group without members.
struct OffsetCommitHandler: ApiHandler {
    let groups: GroupCoordinator
    let registry: TopicRegistry

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async -> OffsetCommitResponse {
        func failed(_ topics: [OffsetCommitRequest.OffsetCommitRequestTopic], _ code: ErrorCode) -> [OffsetCommitResponse.OffsetCommitResponseTopic] {
            topics.map { topic in .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) }) }
        }
        guard context.allows(.read, .group, request.groupId) else {
            return OffsetCommitResponse(topics: failed(request.topics, .groupAuthorizationFailed))
        }
        let denied = request.topics.filter { !context.allows(.read, .topic, $0.name) }
        // As Kafka: offsets of partitions that do not exist are refused, not stored.
        var permitted = request
        var unknown: [OffsetCommitRequest.OffsetCommitRequestTopic] = []
        permitted.topics = []
        for topic in request.topics where context.allows(.read, .topic, topic.name) {
            var known = topic
            var missing = topic
            known.partitions = topic.partitions.filter { registry.partition(topic.name, $0.partitionIndex) != nil }
            missing.partitions = topic.partitions.filter { registry.partition(topic.name, $0.partitionIndex) == nil }
            if !known.partitions.isEmpty { permitted.topics.append(known) }
            if !missing.partitions.isEmpty { unknown.append(missing) }
        }
        var response = await groups.commit(permitted, version: context.apiVersion)
        response.topics += failed(denied, .topicAuthorizationFailed) + failed(unknown, .unknownTopicOrPartition)
        return response
    }
}
