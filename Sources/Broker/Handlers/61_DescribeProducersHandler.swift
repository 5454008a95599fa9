import KafkaProtocol
import KafkaSecurity

/// 61 DescribeProducers: the idempotent producers each partition keeps state for. No
/// transaction is ever open yet, so the coordinator epoch and transaction start are -1.
struct DescribeProducersHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: DescribeProducersRequest, context: RequestContext) async -> DescribeProducersResponse {
        DescribeProducersResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitionIndexes.map { index in
                guard context.allows(.read, .topic, topic.name) else {
                    return .init(partitionIndex: index, errorCode: ErrorCode.topicAuthorizationFailed.rawValue, errorMessage: nil)
                }
                guard let log = broker.registry.partition(topic.name, index) else {
                    return .init(partitionIndex: index, errorCode: ErrorCode.unknownTopicOrPartition.rawValue,
                                 errorMessage: "This server does not host this topic-partition.")
                }
                return .init(partitionIndex: index, activeProducers: log.activeProducers().map {
                    .init(producerId: $0.producerId, producerEpoch: Int32($0.epoch), lastSequence: $0.lastSequence,
                          lastTimestamp: $0.lastTimestamp, coordinatorEpoch: -1, currentTxnStartOffset: -1)
                })
            })
        })
    }
}
