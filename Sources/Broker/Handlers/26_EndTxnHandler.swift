import KafkaProtocol
import KafkaSecurity

/// 26 EndTxn: commit or abort the producer's open transaction.
struct EndTxnHandler: ApiHandler {
    let transactions: TransactionCoordinator

    func handle(_ request: EndTxnRequest, context: RequestContext) async -> EndTxnResponse {
        guard context.allows(.write, .transactionalId, request.transactionalId) else { return EndTxnResponse(errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue) }
        return         EndTxnResponse(errorCode: await transactions.endTransaction(transactionalId: request.transactionalId, producerId: request.producerId,
                                                                    epoch: request.producerEpoch, commit: request.committed).rawValue)
    }
}
