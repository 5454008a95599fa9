import KafkaProtocol
import KafkaSecurity
import LogStore
import NIOCore

/// 0 Produce: validates and appends each partition's batches (see `PartitionLog.append`).
///
/// On a single-node site acks=1 and acks=all mean the same: the batch is in the page cache
/// (and on disk per the flush policy) before the answer.
struct ProduceHandler: ApiHandler {
    let broker: BrokerContext

    func expectsResponse(_ request: ProduceRequest) -> Bool { request.acks != 0 }

    func handle(_ request: ProduceRequest, context: RequestContext) async -> ProduceResponse {
        if let transactionalId = request.transactionalId, !context.allows(.write, .transactionalId, transactionalId) {
            return ProduceResponse(responses: request.topicData.map { topic in
                .init(name: topic.name, partitionResponses: topic.partitionData.map {
                    .init(index: $0.index, errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1)
                })
            })
        }
        let validAcks = [-1, 0, 1].contains(request.acks)
        let now = broker.nowMs()
        var appended = false
        var responses: [ProduceResponse.TopicProduceResponse] = []
        for topic in request.topicData {
            let name = topic.name
            let authorized = context.allows(.write, .topic, name)
            let logs = authorized ? broker.registry.topic(named: name) ?? broker.autoCreate(name, context: context) : nil
            var partitions: [ProduceResponse.PartitionProduceResponse] = []
            for data in topic.partitionData {
                var result = ProduceResponse.PartitionProduceResponse(index: data.index, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1)
                if !authorized {
                    result.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                } else if !validAcks {
                    result.errorCode = ErrorCode.invalidRequiredAcks.rawValue
                } else if TopicName.problem(with: name) != nil || TopicName.isInternal(name) {
                    // Internal topics are written only by the broker's own coordinators.
                    result.errorCode = ErrorCode.invalidTopicException.rawValue
                } else if let logs, data.index >= 0, Int(data.index) < logs.partitions.count {
                    do throws(LogStoreError) {
                        let append = try logs.partitions[Int(data.index)].append(data.records ?? ByteBuffer(), nowMs: now)
                        result.baseOffset = append.baseOffset
                        result.logAppendTimeMs = append.logAppendTime
                        result.logStartOffset = append.logStartOffset
                        appended = true
                    } catch {
                        let failure = KafkaError(error)
                        result.errorCode = failure.code.rawValue
                        result.errorMessage = failure.message
                    }
                } else {
                    result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                }
                partitions.append(result)
            }
            responses.append(.init(name: name, partitionResponses: partitions))
        }
        if appended { broker.appends.notifyAppended() }
        return ProduceResponse(responses: responses)
    }
}
