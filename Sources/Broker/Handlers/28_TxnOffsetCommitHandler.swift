import KafkaProtocol

/// 28 TxnOffsetCommit: offsets that become committed only if the transaction commits.
struct TxnOffsetCommitHandler: ApiHandler {
    let transactions: TransactionCoordinator
    let groups: GroupCoordinator

    func handle(_ request: TxnOffsetCommitRequest, context: RequestContext) async -> TxnOffsetCommitResponse {
        let allowed = await transactions.canCommitOffsets(transactionalId: request.transactionalId, producerId: request.producerId,
                                                          epoch: request.producerEpoch, groupId: request.groupId)
        guard allowed == .noError else {
            return TxnOffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: allowed.rawValue) })
            })
        }
        return await groups.commitTransactional(request)
    }
}
