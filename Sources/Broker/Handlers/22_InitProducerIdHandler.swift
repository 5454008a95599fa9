import KafkaProtocol
import KafkaSecurity

/// 22 InitProducerId: a fresh producer id at epoch 0 for idempotent producers; producers with a
/// `transactional.id` are served by the transaction coordinator.
struct InitProducerIdHandler: ApiHandler {
    let producerIds: ProducerIdAllocator
    let transactions: TransactionCoordinator

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async -> InitProducerIdResponse {
        if let transactionalId = request.transactionalId {
            guard context.allows(.write, .transactionalId, transactionalId) else {
                return InitProducerIdResponse(errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
            }
            let (error, id, epoch) = await transactions.initProducerId(transactionalId: transactionalId, timeoutMs: request.transactionTimeoutMs,
                                                                       producerId: request.producerId, producerEpoch: request.producerEpoch)
            return InitProducerIdResponse(errorCode: error.rawValue, producerId: id, producerEpoch: epoch)
        }
        // An idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
        guard context.allowsCluster(.idempotentWrite) || context.allowsAny(.write, .topic) else {
            return InitProducerIdResponse(errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
        }
        if request.producerId >= 0 {
            // KIP-360: a producer re-initialising after an error keeps its id with the next epoch.
            return InitProducerIdResponse(producerId: request.producerId, producerEpoch: request.producerEpoch &+ 1)
        }
        do {
            return InitProducerIdResponse(producerId: try producerIds.allocate(), producerEpoch: 0)
        } catch {
            return InitProducerIdResponse(errorCode: error.code.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}
