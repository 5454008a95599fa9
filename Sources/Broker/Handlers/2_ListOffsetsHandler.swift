import KafkaProtocol
import KafkaSecurity
import LogStore

/// 2 ListOffsets: earliest (-2), latest (-1), max timestamp (-3), or the first offset at or
/// after a timestamp.
struct ListOffsetsHandler: ApiHandler {
    let broker: BrokerContext

    static let latest: Int64 = -1
    static let earliest: Int64 = -2
    static let maxTimestamp: Int64 = -3

    func handle(_ request: ListOffsetsRequest, context: RequestContext) async -> ListOffsetsResponse {
        ListOffsetsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { wanted in
                var answer = ListOffsetsResponse.ListOffsetsPartitionResponse(partitionIndex: wanted.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1)
                guard context.allows(.describe, .topic, topic.name) else {
                    answer.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                    return answer
                }
                guard let log = broker.registry.partition(topic.name, wanted.partitionIndex) else {
                    answer.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    return answer
                }
                if let error = log.leaderEpochError(clientEpoch: wanted.currentLeaderEpoch) {
                    answer.errorCode = error.rawValue
                    return answer
                }
                answer.leaderEpoch = log.leaderEpoch
                do throws(LogStoreError) {
                    switch wanted.timestamp {
                    case Self.latest:
                        // read_committed consumers must not be sent past an open transaction.
                        answer.offset = request.isolationLevel == 1 ? log.lastStableOffset : log.highWatermark
                    case Self.earliest:
                        answer.offset = log.logStartOffset
                    case Self.maxTimestamp:
                        if let found = try log.maxTimestampOffset() {
                            answer.offset = found.offset
                            answer.timestamp = found.timestamp
                        }
                    default:
                        if let found = try log.offset(forTimestamp: wanted.timestamp) {
                            answer.offset = found.offset
                            answer.timestamp = found.timestamp
                        }
                    }
                } catch {
                    answer.errorCode = KafkaError(error).code.rawValue
                }
                return answer
            })
        })
    }
}
