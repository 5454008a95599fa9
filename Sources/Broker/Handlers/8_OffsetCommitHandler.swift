import KafkaProtocol
import KafkaSecurity

/// 8 OffsetCommit: by a group member of the current generation, or by a memberless client
/// (generation -1) into a group without members.
struct OffsetCommitHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async -> OffsetCommitResponse {
        func failed(_ topics: [OffsetCommitRequest.OffsetCommitRequestTopic], _ code: ErrorCode) -> [OffsetCommitResponse.OffsetCommitResponseTopic] {
            topics.map { topic in .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) }) }
        }
        guard context.allows(.read, .group, request.groupId) else {
            return OffsetCommitResponse(topics: failed(request.topics, .groupAuthorizationFailed))
        }
        var permitted = request
        permitted.topics = request.topics.filter { context.allows(.read, .topic, $0.name) }
        let denied = request.topics.filter { !context.allows(.read, .topic, $0.name) }
        var response = await groups.commit(permitted, version: context.apiVersion)
        response.topics += failed(denied, .topicAuthorizationFailed)
        return response
    }
}
