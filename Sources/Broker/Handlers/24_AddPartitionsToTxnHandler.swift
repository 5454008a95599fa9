import KafkaProtocol
import KafkaSecurity

/// 24 AddPartitionsToTxn (v0–3, one transaction per request).
struct AddPartitionsToTxnHandler: ApiHandler {
    let transactions: TransactionCoordinator

    func handle(_ request: AddPartitionsToTxnRequest, context: RequestContext) async -> AddPartitionsToTxnResponse {
        let deniedTransaction = !context.allows(.write, .transactionalId, request.v3AndBelowTransactionalId)
        let deniedTopics = Set(request.v3AndBelowTopics.map(\.name).filter { !context.allows(.write, .topic, $0) })
        if deniedTransaction || !deniedTopics.isEmpty {
            // Kafka fails the whole request: the refused partitions with the authorization error,
            // the others with OPERATION_NOT_ATTEMPTED.
            return AddPartitionsToTxnResponse(resultsByTopicV3AndBelow: request.v3AndBelowTopics.map { topic in
                let code: ErrorCode = deniedTransaction ? .transactionalIdAuthorizationFailed
                    : deniedTopics.contains(topic.name) ? .topicAuthorizationFailed : .operationNotAttempted
                return .init(name: topic.name, resultsByPartition: topic.partitions.map { .init(partitionIndex: $0, partitionErrorCode: code.rawValue) })
            })
        }
        let partitions = request.v3AndBelowTopics.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.name, partition: $0) } }
        let results = await transactions.addPartitions(transactionalId: request.v3AndBelowTransactionalId, producerId: request.v3AndBelowProducerId,
                                                       epoch: request.v3AndBelowProducerEpoch, partitions: partitions)
        return AddPartitionsToTxnResponse(resultsByTopicV3AndBelow: request.v3AndBelowTopics.map { topic in
            .init(name: topic.name, resultsByPartition: topic.partitions.map { index in
                .init(partitionIndex: index, partitionErrorCode: (results[TopicPartition(topic: topic.name, partition: index)] ?? .unknownServerError).rawValue)
            })
        })
    }
}
