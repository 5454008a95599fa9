import KafkaProtocol
import KafkaSecurity

/// 28 TxnOffsetCommit: offsets that become committed only if the transaction commits.
struct TxnOffsetCommitHandler: ApiHandler {
    let transactions: TransactionCoordinator
    let groups: GroupCoordinator
    let registry: TopicRegistry

    func handle(_ request: TxnOffsetCommitRequest, context: RequestContext) async -> TxnOffsetCommitResponse {
        let denied: ErrorCode? = !context.allows(.write, .transactionalId, request.transactionalId) ? .transactionalIdAuthorizationFailed
            : !context.allows(.read, .group, request.groupId) ? .groupAuthorizationFailed : nil
        if denied != nil || request.topics.contains(where: { !context.allows(.read, .topic, $0.name) }) {
            return TxnOffsetCommitResponse(topics: request.topics.map { topic in
                let code = denied ?? (context.allows(.read, .topic, topic.name) ? .noError : .topicAuthorizationFailed)
                return .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) })
            })
        }
        let allowed = await transactions.canCommitOffsets(transactionalId: request.transactionalId, producerId: request.producerId,
                                                          epoch: request.producerEpoch, groupId: request.groupId)
        guard allowed == .noError else {
            return TxnOffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: allowed.rawValue) })
            })
        }
        // As Kafka: offsets of partitions that do not exist are refused, not stored.
        var known = request
        var unknown: [TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic] = []
        known.topics = []
        for topic in request.topics {
            var present = topic
            present.partitions = topic.partitions.filter { registry.partition(topic.name, $0.partitionIndex) != nil }
            let missing = topic.partitions.filter { registry.partition(topic.name, $0.partitionIndex) == nil }
            if !present.partitions.isEmpty { known.topics.append(present) }
            if !missing.isEmpty {
                unknown.append(.init(name: topic.name, partitions: missing.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: ErrorCode.unknownTopicOrPartition.rawValue)
                }))
            }
        }
        var response = await groups.commitTransactional(known)
        response.topics += unknown
        return response
    }
}
