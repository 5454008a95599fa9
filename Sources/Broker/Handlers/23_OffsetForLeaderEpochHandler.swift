import KafkaProtocol
import KafkaSecurity

/// 23 OffsetForLeaderEpoch: where a leader epoch ended, from the leader-epoch cache, so a
/// client can validate its position after a restart (KIP-320) and detect truncation.
struct OffsetForLeaderEpochHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: OffsetForLeaderEpochRequest, context: RequestContext) async -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(topics: request.topics.map { topic in
            .init(topic: topic.topic, partitions: topic.partitions.map { wanted in
                var answer = OffsetForLeaderEpochResponse.EpochEndOffset(partition: wanted.partition, leaderEpoch: -1, endOffset: -1)
                guard context.allows(.describe, .topic, topic.topic) else {
                    answer.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                    return answer
                }
                guard let log = broker.registry.partition(topic.topic, wanted.partition) else {
                    answer.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    return answer
                }
                if let error = log.leaderEpochError(clientEpoch: wanted.currentLeaderEpoch) {
                    answer.errorCode = error.rawValue
                    return answer
                }
                if let (epoch, end) = try? log.endOffset(forLeaderEpoch: wanted.leaderEpoch) {
                    answer.leaderEpoch = epoch
                    answer.endOffset = end
                }
                return answer
            })
        })
    }
}
