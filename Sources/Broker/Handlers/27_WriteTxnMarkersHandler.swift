import KafkaProtocol
import KafkaSecurity
import LogStore

/// 27 WriteTxnMarkers: writes COMMIT or ABORT markers to the partitions of a transaction. Kafka's
/// transaction coordinator sends it to the partitions' leaders; here the coordinator and every
/// leader are this broker.
struct WriteTxnMarkersHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: WriteTxnMarkersRequest, context: RequestContext) async -> WriteTxnMarkersResponse {
        // An inter-broker API: only a principal with CLUSTER_ACTION may write markers.
        guard context.allowsCluster(.clusterAction) else {
            return WriteTxnMarkersResponse(markers: request.markers.map { marker in
                .init(producerId: marker.producerId, topics: marker.topics.map { topic in
                    .init(name: topic.name, partitions: topic.partitionIndexes.map {
                        .init(partitionIndex: $0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue)
                    })
                })
            })
        }
        let now = broker.nowMs()
        var wrote = false
        let response = WriteTxnMarkersResponse(markers: request.markers.map { marker in
            .init(producerId: marker.producerId, topics: marker.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitionIndexes.map { index in
                    guard let log = broker.registry.partition(topic.name, index) else {
                        return .init(partitionIndex: index, errorCode: ErrorCode.unknownTopicOrPartition.rawValue)
                    }
                    do throws(LogStoreError) {
                        try log.appendMarker(producerId: marker.producerId, producerEpoch: marker.producerEpoch,
                                             type: marker.transactionResult ? .commit : .abort,
                                             coordinatorEpoch: marker.coordinatorEpoch, nowMs: now)
                        wrote = true
                        return .init(partitionIndex: index, errorCode: 0)
                    } catch {
                        return .init(partitionIndex: index, errorCode: KafkaError(error).code.rawValue)
                    }
                })
            })
        })
        if wrote { broker.appends.notifyAppended() }
        return response
    }
}
