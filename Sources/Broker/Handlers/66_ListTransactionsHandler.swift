import KafkaProtocol
import KafkaSecurity

/// 66 ListTransactions, filtered by state name and producer id.
struct ListTransactionsHandler: ApiHandler {
    let transactions: TransactionCoordinator

    func handle(_ request: ListTransactionsRequest, context: RequestContext) async -> ListTransactionsResponse {
        let known = Set(TransactionState.allCases.map(\.name))
        let listed = await transactions.list(states: request.stateFilters, producerIds: request.producerIdFilters)
            .filter { context.allows(.describe, .transactionalId, $0.transactionalId) }
        return ListTransactionsResponse(unknownStateFilters: request.stateFilters.filter { !known.contains($0) },
                                        transactionStates: listed.map { .init(transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state.name) })
    }
}
