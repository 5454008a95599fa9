import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A Kafka producer for any Kafka-protocol cluster: records are batched per partition (by
/// `linger.ms` and `batch.size`), compressed, and sent by a background sender with up to
/// `max.in.flight.requests.per.connection` requests per broker; idempotence (on by default)
/// lets retries neither duplicate nor reorder records.
///
/// `send` returns once the record is queued (waiting for buffer space first: bounded memory);
/// the completion runs when the broker has answered. `close` flushes and stops the sender.
public final class KafkaProducer: @unchecked Sendable {
    public let cluster: KafkaCluster
    public let config: ProducerConfig
    private let lock = NIOLock()
    private var accumulator: RecordAccumulator
    private var partitionCounts: [String: Int] = [:]
    /// The last topic sent to, so a run of records to one topic does not hash its name each time.
    private var lastTopic: (name: String, partitionCount: Int)?
    private var flushing = 0
    private var flushWaiters: [CheckedContinuation<Void, Never>] = []
    /// Callbacks of batches no longer pending that have not returned yet: a flush waits for
    /// them too, so whoever flushes has seen every answer.
    private var callbacksRunning = 0
    private var closed = false
    private var fatal: KafkaClientError?
    private let wake: WakeSignal
    private var sender: Task<Void, Never>?

    public init(cluster: KafkaCluster, config: ProducerConfig = ProducerConfig()) {
        self.cluster = cluster
        self.config = config
        accumulator = RecordAccumulator(config: config)
        wake = WakeSignal(eventLoop: cluster.group.next())
        let task = Task { await self.runSender() }
        lock.withLock { sender = task }
    }

    private enum Admission {
        case queued(wakeSender: Bool)
        case needsPartitionCount
        /// The record names a partition beyond the known count: the topic may have grown.
        case beyondKnownPartitions
        case needsRoom
        case failed(KafkaClientError)
    }

    /// Queues a record; `completion` runs once it is acknowledged or has failed for good.
    /// The common case takes the lock once and does not suspend.
    public func send(_ record: ProducerRecord, completion: (@Sendable (Result<RecordMetadata, KafkaClientError>) -> Void)? = nil) async throws(KafkaClientError) {
        let timestamp = record.timestamp ?? WallClock.nowMs()
        var countRefreshed = false
        while true {
            let admission: Admission = lock.withLock {
                if let refusal = refusalLocked { return .failed(refusal) }
                let partitionCount: Int
                if let lastTopic, lastTopic.name == record.topic {
                    partitionCount = lastTopic.partitionCount
                } else {
                    guard let known = partitionCounts[record.topic] else { return .needsPartitionCount }
                    partitionCount = known
                    lastTopic = (record.topic, known)
                }
                if let partition = record.partition, partition < 0 || Int(partition) >= partitionCount {
                    if partition >= 0 && !countRefreshed { return .beyondKnownPartitions }
                    return .failed(.invalidArgument("partition \(partition) of \(record.topic) does not exist (it has \(partitionCount))"))
                }
                guard accumulator.hasRoom else { return .needsRoom }
                let partition = record.partition ?? accumulator.partitioner.partition(topic: record.topic, key: record.key, partitionCount: partitionCount)
                return .queued(wakeSender: accumulator.append(record, to: TopicPartition(record.topic, partition), partitionCount: partitionCount,
                                                              timestamp: timestamp, callback: completion))
            }
            switch admission {
            case .queued(let wakeSender):
                if wakeSender { wake.notify() }
                return
            case .needsPartitionCount:
                _ = try await partitionCount(of: record.topic)
            case .beyondKnownPartitions:
                _ = try await partitionCount(of: record.topic, covering: record.partition)
                countRefreshed = true
            case .needsRoom:
                try await waitForRoom()
            case .failed(let error):
                throw error
            }
        }
    }

    /// Why nothing more is accepted (a fatal error, or close); call under the lock.
    private var refusalLocked: KafkaClientError? {
        if let fatal { return fatal }
        return closed ? .closed : nil
    }

    /// Sends a record and waits for the broker's answer.
    @discardableResult
    public func sendAndWait(_ record: ProducerRecord) async throws(KafkaClientError) -> RecordMetadata {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<RecordMetadata, KafkaClientError>, Never>) in
            Task {
                do throws(KafkaClientError) {
                    try await self.send(record) { continuation.resume(returning: $0) }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Sends a whole record batch (for example one fetched from another cluster) without
    /// decoding its records. It is validated as a broker validates a produced batch; its
    /// producer fields become this producer's and it loses any transactional flag.
    public func send(batch bytes: ByteBuffer, to topicPartition: TopicPartition,
                     completion: (@Sendable (Result<RecordMetadata, KafkaClientError>) -> Void)? = nil) async throws(KafkaClientError) {
        let view: RecordBatchView
        do {
            view = try RecordBatchView(bytes: bytes)
            try view.validate()
        } catch {
            throw .invalidArgument("\(topicPartition): not a valid record batch: \(error)")
        }
        guard !view.attributes.isControl, view.recordCount > 0 else { throw .invalidArgument("\(topicPartition): control or empty batches cannot be produced") }
        guard view.sizeInBytes <= config.maxRequestSize else { throw .invalidArgument("\(topicPartition): batch of \(view.sizeInBytes) bytes exceeds max.request.size") }
        let partitionCount = try await partitionCount(of: topicPartition.topic, covering: topicPartition.partition)
        guard topicPartition.partition >= 0, Int(topicPartition.partition) < partitionCount else {
            throw .invalidArgument("partition \(topicPartition) does not exist")
        }
        try await waitForRoom()
        let batch = ProducerBatch(topicPartition: topicPartition, prebuilt: view, createdAt: .now(), callback: completion)
        let refusal: KafkaClientError? = lock.withLock {
            if let refusal = refusalLocked { return refusal }
            accumulator.append(prebuilt: batch)
            return nil
        }
        if let refusal { throw refusal }
        wake.notify()
    }

    /// Sends everything queued now, without waiting for `linger.ms`, and returns once all of it
    /// has been answered.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = lock.withLock {
                guard accumulator.pendingBatches > 0 || callbacksRunning > 0 else { return true }
                flushing += 1
                flushWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { wake.notify() }
        }
    }

    /// Flushes, then stops the sender. Records sent after this fail with `.closed`.
    public func close() async {
        await flush()
        let task: Task<Void, Never>? = lock.withLock {
            closed = true
            return sender
        }
        wake.notify()
        await task?.value
    }

    // MARK: - Sending side

    /// The partition count, asked of the cluster again when `partition` lies beyond the known
    /// one: the topic may have gained partitions since it was last looked up.
    private func partitionCount(of topic: String, covering partition: Int32?) async throws(KafkaClientError) -> Int {
        let known = try await partitionCount(of: topic)
        guard let partition, Int(partition) >= known else { return known }
        let metadata = try await cluster.refreshMetadata(topics: [topic])
        guard let fresh = metadata.partitionCount(topic), fresh > known else { return known }
        lock.withLock {
            partitionCounts[topic] = fresh
            if lastTopic?.name == topic { lastTopic = (topic, fresh) }
        }
        return fresh
    }

    private func partitionCount(of topic: String) async throws(KafkaClientError) -> Int {
        if let known = lock.withLock({ partitionCounts[topic] }) { return known }
        let deadline = NIODeadline.now() + config.maxBlock
        while true {
            let metadata = try await cluster.watch([topic], autoCreate: true)
            if let count = metadata.partitionCount(topic), count > 0 {
                lock.withLock { partitionCounts[topic] = count }
                return count
            }
            guard NIODeadline.now() < deadline else { throw .unknownTopic(topic) }
            try? await Task.sleep(nanoseconds: UInt64(cluster.config.retryBackoff.nanoseconds))
            await cluster.invalidateMetadata()
            try await cluster.refreshMetadata(topics: [topic], autoCreate: true)
        }
    }

    /// Waits while `buffer.memory` is used up, for at most `max.block.ms`. Space frees up as
    /// the broker answers; a short sleep between checks costs nothing while it is full.
    private func waitForRoom() async throws(KafkaClientError) {
        guard !lock.withLock({ accumulator.hasRoom }) else { return }
        let deadline = NIODeadline.now() + config.maxBlock
        while !lock.withLock({ accumulator.hasRoom }) {
            guard NIODeadline.now() < deadline else { throw .bufferExhausted(timeoutMs: config.maxBlock.nanoseconds / 1_000_000) }
            if let fatal = lock.withLock({ self.fatal }) { throw fatal }
            try? await Task.sleep(nanoseconds: 200_000)
        }
    }

    private func runSender() async {
        var metadataDue = false
        while true {
            if metadataDue {
                try? await Task.sleep(nanoseconds: UInt64(cluster.config.retryBackoff.nanoseconds))
                _ = try? await cluster.refreshMetadata()
            }
            if config.enableIdempotence, lock.withLock({ accumulator.producerId < 0 && accumulator.pendingBatches > 0 }) {
                await initProducerId()
            }
            // Refreshed every `metadata.max.age.ms` (new partitions, moved leaders).
            let metadata: ClusterMetadata
            if let fresh = try? await cluster.freshMetadata() {
                metadata = fresh
            } else {
                metadata = await cluster.currentMetadata
            }
            let now = NIODeadline.now()
            let (drained, stop): (RecordAccumulator.Drained, Bool) = lock.withLock {
                for (topic, info) in metadata.topics where partitionCounts[topic] != nil { partitionCounts[topic] = info.partitions.count }
                lastTopic = nil
                if closed && accumulator.pendingBatches == 0 { return (RecordAccumulator.Drained(), true) }
                if config.enableIdempotence && accumulator.producerId < 0 { return (RecordAccumulator.Drained(), false) }
                let drained = accumulator.drain(now: now, flushing: flushing > 0 || closed) { metadata.leader(topic: $0.topic, partition: $0.partition)?.nodeId }
                callbacksRunning += drained.expired.count
                return (drained, false)
            }
            if stop { return }
            for batch in drained.expired {
                batch.fail(.requestTimedOut(broker: "\(batch.topicPartition)", api: "Produce", timeoutMs: config.deliveryTimeout.nanoseconds / 1_000_000))
            }
            if !drained.expired.isEmpty {
                lock.withLock { callbacksRunning -= drained.expired.count }
                resumeFlushWaitersIfDone()
            }
            metadataDue = drained.missingLeaders
            // Written from this one task, so a connection carries a partition's batches in
            // sequence order; the answers are awaited elsewhere.
            for (node, batches) in drained.requests {
                await produce(batches, to: node)
            }
            if drained.requests.isEmpty && !metadataDue {
                await wake.wait(until: drained.nextDeadline ?? (config.enableIdempotence && lock.withLock({ accumulator.producerId < 0 }) ? now + cluster.config.retryBackoff : nil))
            }
        }
    }

    /// Gets a producer id and epoch for idempotence (InitProducerId without a transactional id).
    private func initProducerId() async {
        do throws(KafkaClientError) {
            let connection = try await cluster.anyConnection()
            let response = try await connection.send(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1))
            try KafkaClientError.check(response.errorCode, "InitProducerId")
            lock.withLock {
                accumulator.producerId = response.producerId
                accumulator.producerEpoch = response.producerEpoch
                accumulator.resetSequences()
            }
        } catch {
            if !error.isRetriable { failEverything(.fatalProducerError("InitProducerId: \(error)")) }
            try? await Task.sleep(nanoseconds: UInt64(cluster.config.retryBackoff.nanoseconds))
        }
    }

    private func produce(_ batches: [ProducerBatch], to node: Int32) async {
        let (producerId, producerEpoch) = lock.withLock { (accumulator.producerId, accumulator.producerEpoch) }
        var topics: [String: [ProduceRequest.PartitionProduceData]] = [:]
        var sendable: [ProducerBatch] = []
        for batch in batches {
            do {
                let bytes = try batch.encode(compression: config.compression, producerId: producerId, producerEpoch: producerEpoch)
                topics[batch.topicPartition.topic, default: []].append(.init(index: batch.topicPartition.partition, records: bytes))
                sendable.append(batch)
            } catch {
                settle(batch, .failure(.invalidArgument("cannot encode a batch for \(batch.topicPartition): \(error)")))
            }
        }
        let request = ProduceRequest(transactionalId: nil, acks: config.acks, timeoutMs: config.produceTimeoutMs,
                                     topicData: topics.map { .init(name: $0.key, partitionData: $0.value) })
        do throws(KafkaClientError) {
            let connection = try await cluster.connection(to: node)
            if config.acks == 0 {
                try await connection.sendWithoutResponse(request)
                for batch in sendable { settle(batch, .success((-1, -1))) }
            } else {
                let pending = try connection.start(request)
                Task { await self.awaitAnswer(pending, for: sendable, from: node) }
                return
            }
        } catch {
            await requestFailed(error, batches: sendable, node: node)
            return
        }
        lock.withLock { accumulator.requestEnded(node: node) }
        wake.notify()
    }

    private func awaitAnswer(_ pending: BrokerConnection.PendingResponse<ProduceResponse>, for batches: [ProducerBatch], from node: Int32) async {
        let response: ProduceResponse
        do throws(KafkaClientError) {
            response = try await pending.response()
        } catch {
            await requestFailed(error, batches: batches, node: node)
            return
        }
        var answered: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
        for topic in response.responses {
            for partition in topic.partitionResponses { answered[TopicPartition(topic.name, partition.index)] = partition }
        }
        for batch in batches {
            guard let answer = answered[batch.topicPartition] else {
                settle(batch, .failure(.codec("Produce answer without \(batch.topicPartition)")))
                continue
            }
            if answer.errorCode == 0 {
                settle(batch, .success((answer.baseOffset, answer.logAppendTimeMs)))
            } else if answer.errorCode == ErrorCode.duplicateSequenceNumber.rawValue {
                // Already in the log from an earlier attempt whose answer was lost.
                settle(batch, .success((-1, -1)))
            } else {
                settle(batch, .failure(KafkaClientError.from(answer.errorCode, "Produce to \(batch.topicPartition)")))
            }
        }
        lock.withLock { accumulator.requestEnded(node: node) }
        wake.notify()
    }

    private func requestFailed(_ error: KafkaClientError, batches: [ProducerBatch], node: Int32) async {
        if error.invalidatesMetadata { await cluster.dropConnection(to: node) }
        for batch in batches { settle(batch, .failure(error)) }
        lock.withLock { accumulator.requestEnded(node: node) }
        wake.notify()
    }

    /// Records how a sent batch ended: done, back in the queue, or failed; runs its callbacks
    /// outside the lock, before the batch stops counting as pending (a flush returns only after
    /// every callback ran).
    private func settle(_ batch: ProducerBatch, _ outcome: Result<(baseOffset: Int64, logAppendTime: Int64), KafkaClientError>) {
        switch outcome {
        case .success(let answer):
            batch.complete(baseOffset: answer.baseOffset, logAppendTime: answer.logAppendTime)
            lock.withLock { accumulator.completed(batch) }
        case .failure(let error):
            if case .broker(let code, _) = error, code == .invalidProducerEpoch || code == .producerFenced || code == .transactionalIdAuthorizationFailed {
                batch.fail(.fatalProducerError("\(error)"))
                lock.withLock { accumulator.completed(batch) }
                failEverything(.fatalProducerError("\(error)"))
                return
            }
            let retriable = error.isRetriable || (error == .broker(.outOfOrderSequenceNumber, context: "Produce to \(batch.topicPartition)"))
            if retriable && NIODeadline.now() - batch.createdAt < config.deliveryTimeout {
                lock.withLock { accumulator.retry(batch, now: .now(), backoff: cluster.config.retryBackoff) }
                if error.invalidatesMetadata { Task { await cluster.invalidateMetadata() } }
                return
            }
            batch.fail(error)
            lock.withLock { accumulator.failed(batch) }
        }
        resumeFlushWaitersIfDone()
    }

    private func failEverything(_ error: KafkaClientError) {
        let removed: [ProducerBatch] = lock.withLock {
            if fatal == nil { fatal = error }
            let removed = accumulator.removeAll()
            callbacksRunning += removed.count
            return removed
        }
        for batch in removed { batch.fail(error) }
        lock.withLock { callbacksRunning -= removed.count }
        resumeFlushWaitersIfDone()
    }

    private func resumeFlushWaitersIfDone() {
        let waiters: [CheckedContinuation<Void, Never>] = lock.withLock {
            guard accumulator.pendingBatches == 0, callbacksRunning == 0, !flushWaiters.isEmpty else { return [] }
            defer {
                flushWaiters = []
                flushing = 0
            }
            return flushWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
