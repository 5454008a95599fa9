import KafkaProtocol
import LogStore
import NIOCore

/// 1 Fetch: serves whole batches straight from the segment files, long-polling without busy
/// waiting until `min.bytes` are ready or `max.wait.ms` passes.
///
/// Fetch sessions (KIP-227) are not kept: every response carries session id 0, which clients
/// take as "no session" and keep sending full fetch requests.
struct FetchHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: FetchRequest, context: RequestContext) async -> FetchResponse {
        if request.sessionId != 0 {
            return FetchResponse(errorCode: ErrorCode.fetchSessionIdNotFound.rawValue, sessionId: 0)
        }
        let deadline = broker.nowMs() + Int64(max(0, request.maxWaitMs))
        while true {
            let generation = broker.appends.generation
            let (response, bytes, failed) = read(request)
            let remaining = deadline - broker.nowMs()
            if bytes >= Int(request.minBytes) || failed || remaining <= 0 || Task.isCancelled {
                return response
            }
            await broker.appends.wait(after: generation, timeoutMs: remaining)
        }
    }

    private func read(_ request: FetchRequest) -> (FetchResponse, Int, Bool) {
        var budget = Int(request.maxBytes)
        var total = 0
        var failed = false
        var topics: [FetchResponse.FetchableTopicResponse] = []
        for topic in request.topics {
            var partitions: [FetchResponse.PartitionData] = []
            for wanted in topic.partitions {
                var data = FetchResponse.PartitionData(partitionIndex: wanted.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: nil, records: nil)
                guard let log = broker.registry.partition(topic.topic, wanted.partition) else {
                    data.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    failed = true
                    partitions.append(data)
                    continue
                }
                if let error = log.leaderEpochError(clientEpoch: wanted.currentLeaderEpoch) {
                    data.errorCode = error.rawValue
                    failed = true
                    partitions.append(data)
                    continue
                }
                do throws(LogStoreError) {
                    let limit = min(Int(wanted.partitionMaxBytes), max(budget, 0))
                    let result = try log.read(from: wanted.fetchOffset, maxBytes: limit, minOneBatch: total == 0)
                    data.highWatermark = result.highWatermark
                    data.lastStableOffset = result.highWatermark
                    data.logStartOffset = result.logStartOffset
                    data.records = result.records ?? ByteBuffer()
                    let size = result.records?.readableBytes ?? 0
                    total += size
                    budget -= size
                } catch {
                    data.errorCode = KafkaError(error).code.rawValue
                    data.highWatermark = log.highWatermark
                    data.lastStableOffset = data.highWatermark
                    data.logStartOffset = log.logStartOffset
                    failed = true
                }
                partitions.append(data)
            }
            topics.append(.init(topic: topic.topic, partitions: partitions))
        }
        return (FetchResponse(errorCode: 0, sessionId: 0, responses: topics), total, failed)
    }
}
