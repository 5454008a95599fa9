import KafkaProtocol
import KafkaSecurity
import LogStore

/// 21 DeleteRecords: moves a partition's log start offset; -1 means the high watermark.
struct DeleteRecordsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: DeleteRecordsRequest, context: RequestContext) async -> DeleteRecordsResponse {
        DeleteRecordsResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { wanted in
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult(partitionIndex: wanted.partitionIndex, lowWatermark: -1)
                guard context.allows(.delete, .topic, topic.name) else {
                    result.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                    return result
                }
                guard let log = broker.registry.partition(topic.name, wanted.partitionIndex) else {
                    result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    return result
                }
                do throws(LogStoreError) {
                    result.lowWatermark = try log.deleteRecords(before: wanted.offset == -1 ? log.highWatermark : wanted.offset)
                } catch {
                    result.errorCode = KafkaError(error).code.rawValue
                }
                return result
            })
        })
    }
}
