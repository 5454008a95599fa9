import KafkaProtocol

/// 22 InitProducerId for idempotent producers: a fresh producer id at epoch 0. Producers with a
/// `transactional.id` need the transaction coordinator, which this broker does not run yet.
struct InitProducerIdHandler: ApiHandler {
    let broker: BrokerContext
    let producerIds: ProducerIdAllocator

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async -> InitProducerIdResponse {
        if request.transactionalId != nil {
            return InitProducerIdResponse(errorCode: ErrorCode.coordinatorNotAvailable.rawValue, producerId: -1, producerEpoch: -1)
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
