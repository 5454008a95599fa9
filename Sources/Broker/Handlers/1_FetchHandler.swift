import KafkaProtocol
import KafkaSecurity
import LogStore
import NIOCore

/// 1 Fetch: serves whole batches straight from the segment files, long-polling without busy
/// waiting until `min.bytes` are ready or `max.wait.ms` passes.
///
/// The server sends the records with sendfile (`fetch`, framed by `ZeroCopyFetchFrame`);
/// `handle` reads them into the response instead, for callers that want a message.
///
/// Fetch sessions (KIP-227) are not kept: every response carries session id 0, which clients
/// take as "no session" and keep sending full fetch requests.
struct FetchHandler: ApiHandler {
    let broker: BrokerContext
    /// `fetch.max.bytes`, read once: every Fetch is clamped to it.
    let maximumResponseBytes: Int

    init(broker: BrokerContext) {
        self.broker = broker
        maximumResponseBytes = Int(broker.config.long("fetch.max.bytes"))
    }

    static let readCommitted: Int8 = 1

    func handle(_ request: FetchRequest, context: RequestContext) async -> FetchResponse {
        var (response, slices) = await fetch(request, context: context)
        for topic in response.responses.indices {
            for partition in response.responses[topic].partitions.indices {
                guard let slice = slices[topic][partition] else { continue }
                if let bytes = try? slice.read() {
                    response.responses[topic].partitions[partition].records = ByteBuffer(bytes: bytes)
                } else {
                    response.responses[topic].partitions[partition].errorCode = ErrorCode.kafkaStorageError.rawValue
                }
            }
        }
        return response
    }

    /// The response with null records where `slices` holds the file ranges to send.
    func fetch(_ request: FetchRequest, context: RequestContext) async -> (FetchResponse, [[FileSlice?]]) {
        if request.sessionId != 0 {
            return (FetchResponse(errorCode: ErrorCode.fetchSessionIdNotFound.rawValue, sessionId: 0), [])
        }
        let denied = Set(request.topics.map(\.topic).filter { !context.allows(.read, .topic, $0) })
        let deadline = broker.nowMs() + Int64(max(0, request.maxWaitMs))
        while true {
            let generation = broker.appends.generation
            let (response, slices, bytes, failed) = read(request, denied: denied)
            let remaining = deadline - broker.nowMs()
            if bytes >= Int(request.minBytes) || failed || remaining <= 0 || Task.isCancelled {
                return (response, slices)
            }
            await context.parked { await broker.appends.wait(after: generation, timeoutMs: remaining) }
        }
    }

    /// `denied` names the topics the client may not read: they answer TOPIC_AUTHORIZATION_FAILED.
    ///
    /// The response holds at most `fetch.max.bytes` of records (plus the first batch when it alone
    /// is larger, as Kafka does), whatever the request asks. A partition named twice is answered
    /// once, as Kafka's fetch map does, so a request cannot make the broker open a descriptor per
    /// repetition. A partition answered with an error carries empty records, never null: Kafka
    /// never sends null there, and librdkafka fails to parse it.
    private func read(_ request: FetchRequest, denied: Set<String>) -> (FetchResponse, [[FileSlice?]], Int, Bool) {
        var budget = min(Int(request.maxBytes), maximumResponseBytes)
        var total = 0
        var failed = false
        var topics: [FetchResponse.FetchableTopicResponse] = []
        var slices: [[FileSlice?]] = []
        var seen = Set<TopicPartition>()
        for topic in request.topics {
            var partitions: [FetchResponse.PartitionData] = []
            var topicSlices: [FileSlice?] = []
            for wanted in topic.partitions where seen.insert(TopicPartition(topic: topic.topic, partition: wanted.partition)).inserted {
                var data = FetchResponse.PartitionData(partitionIndex: wanted.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
                                                       abortedTransactions: nil, records: ByteBuffer())
                guard !denied.contains(topic.topic), let log = broker.registry.partition(topic.topic, wanted.partition) else {
                    data.errorCode = (denied.contains(topic.topic) ? ErrorCode.topicAuthorizationFailed : .unknownTopicOrPartition).rawValue
                    failed = true
                    partitions.append(data)
                    topicSlices.append(nil)
                    continue
                }
                if let error = log.leaderEpochError(clientEpoch: wanted.currentLeaderEpoch) {
                    data.errorCode = error.rawValue
                    failed = true
                    partitions.append(data)
                    topicSlices.append(nil)
                    continue
                }
                var slice: FileSlice?
                do throws(LogStoreError) {
                    let limit = min(Int(wanted.partitionMaxBytes), max(budget, 0))
                    let committedOnly = request.isolationLevel == Self.readCommitted
                    let result = try log.readSlice(from: wanted.fetchOffset, maxBytes: limit, minOneBatch: total == 0, committedOnly: committedOnly)
                    data.highWatermark = result.highWatermark
                    data.lastStableOffset = result.lastStableOffset
                    data.logStartOffset = result.logStartOffset
                    if committedOnly {
                        // KIP-98: the consumer drops these producers' records from their first offset
                        // up to the abort marker.
                        data.abortedTransactions = log.abortedTransactions(from: wanted.fetchOffset, to: result.lastStableOffset)
                            .map { .init(producerId: $0.producerId, firstOffset: $0.firstOffset) }
                    }
                    data.records = ByteBuffer()
                    slice = result.slice
                    let size = slice?.length ?? 0
                    total += size
                    budget -= size
                } catch {
                    data.errorCode = KafkaError(error).code.rawValue
                    data.highWatermark = log.highWatermark
                    data.lastStableOffset = log.lastStableOffset
                    data.logStartOffset = log.logStartOffset
                    failed = true
                }
                partitions.append(data)
                topicSlices.append(slice)
            }
            topics.append(.init(topic: topic.topic, partitions: partitions))
            slices.append(topicSlices)
        }
        return (FetchResponse(errorCode: 0, sessionId: 0, responses: topics), slices, total, failed)
    }
}
