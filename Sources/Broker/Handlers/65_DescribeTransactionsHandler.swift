import KafkaProtocol
import KafkaSecurity

/// 65 DescribeTransactions.
struct DescribeTransactionsHandler: ApiHandler {
    let transactions: TransactionCoordinator

    func handle(_ request: DescribeTransactionsRequest, context: RequestContext) async -> DescribeTransactionsResponse {
        var states: [DescribeTransactionsResponse.TransactionState] = []
        for id in request.transactionalIds {
            guard context.allows(.describe, .transactionalId, id) else {
                states.append(.init(errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue, transactionalId: id, transactionState: "",
                                    transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1))
                continue
            }
            guard let transaction = await transactions.describe(id) else {
                states.append(.init(errorCode: ErrorCode.transactionalIdNotFound.rawValue, transactionalId: id, transactionState: "",
                                    transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1))
                continue
            }
            let byTopic = Dictionary(grouping: transaction.partitions, by: \.topic)
            states.append(.init(transactionalId: id, transactionState: transaction.state.name, transactionTimeoutMs: transaction.timeoutMs,
                                transactionStartTimeMs: transaction.startTimestampMs, producerId: transaction.producerId,
                                producerEpoch: transaction.producerEpoch,
                                topics: byTopic.keys.sorted().map { .init(topic: $0, partitions: byTopic[$0]!.map(\.partition).sorted()) }))
        }
        return DescribeTransactionsResponse(transactionStates: states)
    }
}
