import KafkaProtocol
import KafkaSecurity

/// 25 AddOffsetsToTxn: the transaction will commit offsets of this group.
struct AddOffsetsToTxnHandler: ApiHandler {
    let transactions: TransactionCoordinator

    func handle(_ request: AddOffsetsToTxnRequest, context: RequestContext) async -> AddOffsetsToTxnResponse {
        guard context.allows(.write, .transactionalId, request.transactionalId) else { return AddOffsetsToTxnResponse(errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue) }
        guard context.allows(.read, .group, request.groupId) else { return AddOffsetsToTxnResponse(errorCode: ErrorCode.groupAuthorizationFailed.rawValue) }
        return         AddOffsetsToTxnResponse(errorCode: await transactions.addOffsets(transactionalId: request.transactionalId, producerId: request.producerId,
                                                                          epoch: request.producerEpoch, groupId: request.groupId).rawValue)
    }
}
