import KafkaClient
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The data path of one flow in one agent: reads the source partitions this agent owns
/// (read_committed, as raw batches), hands each batch to the target's idempotent producer
/// (forwarded or rewritten by `BatchForwarder`), and records progress once the target
/// acknowledged. Progress is written to the offsets topic every `offset.flush.interval.ms`
/// and whenever partitions leave, so a crash re-copies about one interval at most.
///
/// Everything but delivery callbacks runs on the flow's task; the callbacks only touch the
/// acknowledged positions and the failures, under a lock. One copier lives as long as its flow
/// in this agent, across group memberships, so what it learnt (topic ids, stopped partitions,
/// alarms) survives a reconnection.
final class FlowCopier: @unchecked Sendable {
    let flow: FlowSettings
    private let source: KafkaCluster
    private let target: KafkaCluster
    private let store: SourceOffsetStore
    private let recorder: OffsetMapRecorder
    private let logger: Logger
    private let forwarder: BatchForwarder
    private var consumer: KafkaConsumer
    private var producer: KafkaProducer
    private var mappings: [String: TopicMapping] = [:]
    private var owned: Set<TopicPartition> = []
    /// The last position written to the offsets topic per owned partition (copying resumes
    /// after it, or at the log start when there is none).
    private var stored: [TopicPartition: Int64] = [:]
    /// Partitions stopped by an alarm; they stay stopped when they come back to this agent.
    private var stopped: Set<TopicPartition> = []
    /// Every source topic id seen, kept when a topic disappears, so a recreated topic is noticed
    /// even when it was gone for a while.
    private var topicIds: [String: KafkaUUID] = [:]
    /// Recreated topics, with the partitions already dealt with (alarm raised; skipped ones
    /// restarted from the new topic's beginning).
    private var recreatedTopics: [String: Set<Int32>] = [:]
    private var lastFlush = NIODeadline.now()
    private let lock = NIOLock()
    private var acked: [TopicPartition: Int64] = [:]
    /// Batches sent and not yet acted on, per partition, and the offset to count as copied once
    /// they are: records that produce nothing on the target (control and aborted batches,
    /// records that came from the target) still move the position.
    private var sends: [TopicPartition: PartitionSendQueue<Delivery>] = [:]
    private var sendEpochs = 0
    private var passedOver: [TopicPartition: Int64] = [:]
    /// Partitions whose delivery failed: their positions stop moving until the restart.
    private var failures: [TopicPartition: KafkaClientError] = [:]
    private var counters: FlowStatus
    /// Per owned partition, for the status API and metrics (under the lock).
    private var statistics: [TopicPartition: PartitionStatistics] = [:]

    /// The answer to one sent batch, and what it means for the source partition.
    private struct Delivery: Sendable {
        var result: Result<RecordMetadata, KafkaClientError>
        /// The last source offset the batch completes (the last batch of a source batch's split).
        var lastOffset: Int64?
        var runs: [OffsetRun]
        var bytes: Int64
        var records: Int64
        /// The batch's newest record timestamp, for the replication latency.
        var timestamp: Int64
    }

    init(flow: FlowSettings, source: KafkaCluster, target: KafkaCluster, store: SourceOffsetStore, recorder: OffsetMapRecorder,
         logger: Logger) throws(KafkaClientError) {
        self.flow = flow
        self.source = source
        self.target = target
        self.store = store
        self.recorder = recorder
        self.logger = logger
        forwarder = BatchForwarder(source: flow.source, target: flow.target, tracksOrigin: flow.policy is IdentityReplicationPolicy)
        consumer = KafkaConsumer(cluster: source, config: try Self.consumerConfig(flow))
        producer = KafkaProducer(cluster: target, config: try Self.producerConfig(flow))
        counters = FlowStatus(flow: flow.name)
    }

    static func consumerConfig(_ flow: FlowSettings) throws(KafkaClientError) -> ConsumerConfig {
        var config = ConsumerConfig()
        try config.apply(flow.consumer)
        // A gap must be seen, not papered over: see `outOfRange`.
        config.autoOffsetReset = .none
        config.isolationLevel = .readCommitted
        config.enableAutoCommit = false
        config.groupId = nil
        return config
    }

    static func producerConfig(_ flow: FlowSettings) throws(KafkaClientError) -> ProducerConfig {
        var config = ProducerConfig()
        try config.apply(flow.producer)
        config.enableIdempotence = true
        config.acks = -1
        return config
    }

    var status: FlowStatus {
        var status = lock.withLock { counters }
        status.assignedPartitions = owned.count
        status.topics = mappings.count
        status.offsetMapRuns = recorder.runCount
        return status
    }

    /// The partitions being copied, from state under the lock: safe to call from any task
    /// (the status API), and computed only when asked.
    var partitionStatus: [PartitionStatus] {
        let now = WallClock.nowMs()
        return lock.withLock {
            statistics.keys.sorted().map { partition in
                let statistics = self.statistics[partition]!
                return PartitionStatus(topic: partition.topic, partition: partition.partition, targetTopic: statistics.targetTopic,
                                       sourceEnd: statistics.sourceEnd, position: acked[partition], lag: statistics.lag(position: acked[partition]),
                                       records: statistics.records, bytes: statistics.bytes,
                                       latency: self.statistics[partition]!.recentLatency(nowMs: now))
            }
        }
    }

    /// Owns no partition (nothing to fetch, no progress to write).
    var isIdle: Bool { owned.isEmpty }

    func update(mappings: [String: TopicMapping]) async {
        for (topic, mapping) in mappings {
            if let known = topicIds[topic], known != .zero, mapping.sourceTopicId != .zero, known != mapping.sourceTopicId {
                recreatedTopics[topic] = []
                for partition in owned where partition.topic == topic { await recreated(partition) }
            }
            topicIds[topic] = mapping.sourceTopicId
        }
        self.mappings = mappings
    }

    // MARK: - Ownership

    func assign(_ partitions: Set<TopicPartition>) async throws(KafkaClientError) {
        guard !partitions.isEmpty else { return }
        let progress = try await store.load()
        for partition in partitions {
            owned.insert(partition)
            stored[partition] = progress[partition]
        }
        try await recorder.adopt(partitions, positions: progress)
        try consumer.assign(Array(owned), starts: Dictionary(partitions.map { partition in
            (partition, stored[partition].map { KafkaConsumer.StartPosition.offset($0 + 1) } ?? .beginning)
        }, uniquingKeysWith: { first, _ in first }))
        for partition in partitions where stopped.contains(partition) { try? consumer.pause([partition]) }
        logger.info("\(flow.name): copying \(partitions.sorted().map(\.description).joined(separator: ", "))")
        for partition in partitions where recreatedTopics[partition.topic].map({ !$0.contains(partition.partition) }) ?? false {
            await recreated(partition)
        }
    }

    /// Gives every partition back (the flow is leaving its group), positions stored.
    func revokeAll() async {
        await revoke(owned, lost: false)
    }

    /// Stops copying the partitions, waits for what was sent, and stores their positions.
    func revoke(_ partitions: Set<TopicPartition>, lost: Bool) async {
        guard !partitions.isEmpty else { return }
        owned.subtract(partitions)
        try? consumer.assign(Array(owned))
        await producer.flush()
        if !lost { try? await flushProgress(only: partitions) }
        for partition in partitions { stored[partition] = nil }
        recorder.forget(partitions)
        lock.withLock {
            for partition in partitions {
                statistics[partition] = nil
                acked[partition] = nil
                sends[partition] = nil
                passedOver[partition] = nil
                failures[partition] = nil
            }
        }
        logger.info("\(flow.name): \(lost ? "lost" : "handed over") \(partitions.sorted().map(\.description).joined(separator: ", "))")
    }

    // MARK: - Copying

    /// One round: fetch what is ready, send it, write progress when due.
    func step() async throws(KafkaClientError) {
        let failed = lock.withLock { failures }
        if !failed.isEmpty { try await restart(after: failed) }
        let fetches: [PartitionFetch]
        do {
            fetches = try await consumer.pollBatches(timeout: flow.pollTimeout)
        } catch {
            switch error {
            case .offsetOutOfRange(let topic, let partition, let offset):
                try await outOfRange(TopicPartition(topic, partition), position: offset)
            case .logTruncation(let topic, let partition, let position, let diverging):
                await lossDetected(TopicPartition(topic, partition),
                                   message: "the source log was truncated at \(diverging), below the mirror's position \(position)", resumeAt: diverging)
            default:
                throw error
            }
            return
        }
        for fetch in fetches { try await send(fetch) }
        if NIODeadline.now() - lastFlush >= flow.offsetFlushInterval {
            try await flushProgress(only: nil)
        }
    }

    private func send(_ fetch: PartitionFetch) async throws(KafkaClientError) {
        let partition = fetch.topicPartition
        guard owned.contains(partition), !stopped.contains(partition), let mapping = mappings[partition.topic] else { return }
        guard Int(partition.partition) < mapping.targetPartitions else {
            alarm(partition, "cannot copy: \(mapping.targetTopic) on \(flow.target) has only \(mapping.targetPartitions) partitions", stop: true)
            return
        }
        recorder.sourceBounds(partition, logStart: fetch.logStartOffset, logEnd: fetch.highWatermark)
        let fetchedAt = WallClock.nowMs()
        lock.withLock {
            if statistics[partition] == nil {
                statistics[partition] = PartitionStatistics(flow: flow.name, partition: partition, targetTopic: mapping.targetTopic)
            }
            statistics[partition]!.fetched(highWatermark: fetch.highWatermark, batches: fetch.batches, position: acked[partition], nowMs: fetchedAt)
        }
        let destination = TopicPartition(mapping.targetTopic, partition.partition)
        let limit = min(mapping.maxMessageBytes, producer.config.maxRequestSize - 128)
        var position = fetch.fetchOffset
        var outcomes: [(BatchForwarder.Outcome, Int64)] = []
        do throws(BatchForwarder.Failure) {
            if !fetch.legacyMessages.isEmpty, let last = fetch.legacyMessages.last {
                outcomes.append((try forwarder.prepare(legacy: fetch.legacyMessages, position: position, limit: limit), last.offset))
            }
            for batch in fetch.batches {
                outcomes.append((try forwarder.prepare(batch, position: position, limit: limit), batch.lastOffset))
                position = max(position, batch.lastOffset + 1)
            }
        } catch {
            alarm(partition, "cannot copy: \(error)", stop: true)
            return
        }
        var lastSent: Int64?
        for (outcome, lastOffset) in outcomes {
            lock.withLock {
                counters.recordsSkipped += Int64(outcome.recordsDropped)
                if outcome.rewritten { counters.batchesRewritten += Int64(outcome.batches.count) } else { counters.batchesForwarded += Int64(outcome.batches.count) }
            }
            for (index, outgoing) in outcome.batches.enumerated() {
                let isLast = index == outcome.batches.count - 1
                let bytes = Int64(outgoing.bytes.readableBytes)
                let runs = outgoing.runs
                let records = runs.reduce(0) { $0 + $1.span }
                let timestamp = outgoing.bytes.getInteger(at: outgoing.bytes.readerIndex + 35, as: Int64.self) ?? -1
                let ticket: (epoch: Int, sequence: Int) = lock.withLock {
                    if sends[partition] == nil {
                        sendEpochs += 1
                        sends[partition] = PartitionSendQueue(epoch: sendEpochs)
                    }
                    return (sends[partition]!.epoch, sends[partition]!.enqueue())
                }
                let delivery: @Sendable (Result<RecordMetadata, KafkaClientError>) -> Delivery = { result in
                    Delivery(result: result, lastOffset: isLast ? lastOffset : nil, runs: runs, bytes: bytes, records: records, timestamp: timestamp)
                }
                do {
                    try await producer.send(batch: outgoing.bytes, to: destination) { [weak self] result in
                        self?.answered(partition, ticket, delivery(result))
                    }
                } catch {
                    answered(partition, ticket, delivery(.failure(error)))
                    return
                }
                if isLast { lastSent = lastOffset }
            }
        }
        if fetch.nextOffset - 1 != lastSent { passOver(partition, through: fetch.nextOffset - 1) }
    }

    /// Counts offsets up to `offset` as copied once everything sent before them is answered.
    private func passOver(_ partition: TopicPartition, through offset: Int64) {
        lock.withLock {
            guard failures[partition] == nil else { return }
            if (sends[partition]?.inFlight ?? 0) == 0 {
                acked[partition] = max(acked[partition] ?? -1, offset)
            } else {
                passedOver[partition] = max(passedOver[partition] ?? -1, offset)
            }
        }
    }

    private func answered(_ partition: TopicPartition, _ ticket: (epoch: Int, sequence: Int), _ delivery: Delivery) {
        lock.withLock {
            guard sends[partition]?.epoch == ticket.epoch else { return }
            for ready in sends[partition]!.answer(ticket.sequence, delivery) { release(partition, ready) }
            // Only once every answer before it was acted on, and none failed.
            if failures[partition] == nil, sends[partition]?.inFlight == 0, let offset = passedOver.removeValue(forKey: partition) {
                acked[partition] = max(acked[partition] ?? -1, offset)
            }
        }
    }

    /// Acts on a batch's answer, in send order, under the lock.
    private func release(_ partition: TopicPartition, _ delivery: Delivery) {
        switch delivery.result {
        case .success(let metadata):
            counters.bytes += delivery.bytes
            counters.records += delivery.records
            statistics[partition]?.delivered(records: delivery.records, bytes: delivery.bytes, timestamp: delivery.timestamp, nowMs: WallClock.nowMs())
            // After a failure, later batches may still land (the producer renumbers past the
            // gap): the position stays where it was, so the restart copies the gap again, and
            // the map learns those copies then.
            guard failures[partition] == nil else { return }
            guard metadata.offset >= 0 else {
                // A retried batch the target already had (DUPLICATE_SEQUENCE_NUMBER) without
                // saying where: copy it again from the last mapped position, so the map knows
                // exactly where a copy is.
                failures[partition] = .broker(.duplicateSequenceNumber, context: "a batch of \(partition) is on the target at an offset it did not tell")
                return
            }
            recorder.delivered(partition, runs: delivery.runs, targetBase: metadata.offset)
            if let lastOffset = delivery.lastOffset { acked[partition] = max(acked[partition] ?? -1, lastOffset) }
            statistics[partition]?.updateLag(position: acked[partition])
        case .failure(let error):
            if failures[partition] == nil { failures[partition] = error }
        }
    }

    /// After a failed delivery the producer's order can no longer be trusted: close it, and go
    /// on from the last acknowledged offsets with a new one (records after them may be copied
    /// twice, none is lost). A partition the target refused for good (the batch is invalid
    /// there, not merely late) is stopped with an alarm rather than retried forever.
    private func restart(after failed: [TopicPartition: KafkaClientError]) async throws(KafkaClientError) {
        logger.warning("\(flow.name): delivery failed (\(failed.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "; "))); resuming from the last acknowledged offsets")
        await producer.close()
        let resume: [TopicPartition: Int64] = lock.withLock {
            failures = [:]
            // Answers from the replaced producer are ignored from here on.
            sends = [:]
            passedOver = [:]
            counters.restarts += 1
            return acked
        }
        producer = KafkaProducer(cluster: target, config: try Self.producerConfig(flow))
        for (partition, error) in failed where !error.isRetriable && owned.contains(partition) {
            if case .broker(.duplicateSequenceNumber, _) = error { continue }
            alarm(partition, "the target refused the copy: \(error)", stop: true)
        }
        for partition in owned where !stopped.contains(partition) {
            if let last = resume[partition] ?? stored[partition] {
                try consumer.seek(partition, to: last + 1)
            } else {
                try consumer.seekToBeginning([partition])
            }
        }
    }

    /// Writes acknowledged positions that moved since the last write.
    private func flushProgress(only partitions: Set<TopicPartition>?) async throws(KafkaClientError) {
        lastFlush = .now()
        let current = lock.withLock { acked }
        let changed = current.filter { (partitions?.contains($0.key) ?? owned.contains($0.key)) && stored[$0.key] != $0.value }
        // The runs first: a stored position promises that the map covers what is below it.
        try await recorder.flush()
        guard !changed.isEmpty else { return }
        try await store.store(changed)
        stored.merge(changed) { $1 }
        recorder.stored(changed)
    }

    // MARK: - Data loss

    /// The source no longer has the position: records were deleted before they were copied
    /// (retention, DeleteRecords) or the log ends below the position (truncated, or recreated).
    /// Always an alarm; then stop or skip as the flow says. An answer that no longer holds (the
    /// position is in range again) only moves the fetch back to the position.
    private func outOfRange(_ partition: TopicPartition, position: Int64) async throws(KafkaClientError) {
        // A stopped partition, or an answer to a fetch from before a skip: already dealt with.
        guard !stopped.contains(partition), consumer.position(partition).map({ $0 == position }) ?? true else { return }
        let admin = KafkaAdmin(cluster: source)
        let earliest = try await admin.listOffsets([partition: .earliest])[partition]?.offset ?? 0
        let latest = try await admin.listOffsets([partition: .latest])[partition]?.offset ?? 0
        let at = consumer.position(partition) ?? position
        if at >= earliest && at <= latest {
            try consumer.seek(partition, to: at)
        } else if at < earliest {
            await lossDetected(partition, message: "the source deleted offsets \(at) to \(earliest - 1) before they were copied", resumeAt: earliest)
        } else {
            await lossDetected(partition, message: "the source log ends at \(latest), below the mirror's position \(at) (truncated or recreated)",
                               resumeAt: latest)
        }
    }

    private func recreated(_ partition: TopicPartition) async {
        recreatedTopics[partition.topic, default: []].insert(partition.partition)
        let earliest = try? await KafkaAdmin(cluster: source).listOffsets([partition: .earliest])[partition]?.offset
        await lossDetected(partition, message: "the source topic was recreated (new topic id)", resumeAt: earliest ?? 0)
    }

    private func lossDetected(_ partition: TopicPartition, message: String, resumeAt: Int64) async {
        lock.withLock { counters.dataLossEvents += 1 }
        switch flow.dataLossPolicy {
        case .stop:
            alarm(partition, message + "; partition stopped (data.loss.policy=stop)", stop: true)
        case .skip:
            alarm(partition, message + "; going on from offset \(resumeAt) (data.loss.policy=skip)", stop: false)
            await rewind(partition, to: resumeAt)
        }
    }

    /// Moves a partition's copy to `offset`, backwards too: the position is stored at once, so
    /// neither a crash nor a handover resumes from the old, higher one.
    private func rewind(_ partition: TopicPartition, to offset: Int64) async {
        await producer.flush()
        lock.withLock {
            acked[partition] = offset - 1
            passedOver[partition] = nil
            // Whatever is still to come for earlier sends must not move the position back up.
            sends[partition] = nil
        }
        try? consumer.seek(partition, to: offset)
        // The map first, as for every stored position; a position lower than the stored one
        // needs no new runs and is stored anyway.
        let mapped = (try? await recorder.flush()) != nil
        guard mapped || offset - 1 <= stored[partition] ?? -1, (try? await store.store([partition: offset - 1])) != nil else { return }
        stored[partition] = offset - 1
        recorder.stored([partition: offset - 1])
    }

    private func alarm(_ partition: TopicPartition, _ message: String, stop: Bool) {
        logger.error("\(flow.name): \(partition): \(message)")
        if stop {
            stopped.insert(partition)
            try? consumer.pause([partition])
        }
        lock.withLock {
            counters.alarms.removeAll { $0.topic == partition.topic && $0.partition == partition.partition }
            counters.alarms.append(.init(topic: partition.topic, partition: partition.partition, message: message, stopped: stop))
        }
    }

    /// Waits for what was sent and stores the positions, keeping the partitions: what a stop
    /// does before its last checkpoints.
    func settle() async {
        await producer.flush()
        try? await flushProgress(only: nil)
    }

    /// Stores the final positions of what is still owned and closes the clients.
    func close() async {
        await revokeAll()
        await producer.close()
        await consumer.close()
    }
}
