import KafkaClient
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Follows where a flow's copies land on the target, for the partitions this agent copies:
/// keeps their offset map, writes each new or grown run to the offset-map topic (and MM2's
/// offset syncs) before the copier stores its positions, and tells the checkpoint emitter what
/// is safe to translate. Delivery callbacks feed it from the producer's threads, hence the lock.
final class OffsetMapRecorder: Sendable {
    /// What checkpoints may be computed from: the map as written, and per partition the source
    /// offset up to which the mirror's progress is stored (everything below was copied or
    /// passed over, and its runs are written).
    struct DurableView: Sendable {
        var map = OffsetMap()
        var coveredEnds: [TopicPartition: Int64] = [:]

        /// The translation of `committed`, or nil while the mirror has not yet stored progress
        /// up to it (a checkpoint then would send consumers back to records they had read).
        func translate(_ partition: TopicPartition, _ committed: Int64) -> Int64? {
            guard let covered = coveredEnds[partition], committed <= covered else { return nil }
            return map.translate(partition, committed)
        }
    }

    private struct State {
        var live = OffsetMap()
        var durable = DurableView()
        /// Runs to write, in the order they were made; a run that grew since it was queued is
        /// replaced in place (found through `pendingIndex`, the last entry per partition).
        var pending: [(partition: TopicPartition, run: OffsetRun)] = []
        var pendingIndex: [TopicPartition: Int] = [:]
        /// The source's log start and end per partition, as the last fetch told.
        var logStarts: [TopicPartition: Int64] = [:]
        var sourceEnds: [TopicPartition: Int64] = [:]
        var writtenEnds: [TopicPartition: Int64] = [:]
    }

    private let store: OffsetMapStore
    /// MM2's offset-syncs topic, unless `emit.offset-syncs.enabled` is false.
    private let offsetSyncs: InternalTopic?
    private let logger: Logger
    private let flowName: String
    private let state = NIOLockedValueBox(State())

    init(store: OffsetMapStore, offsetSyncs: InternalTopic?, flowName: String, logger: Logger) {
        self.store = store
        self.offsetSyncs = offsetSyncs
        self.flowName = flowName
        self.logger = logger
    }

    func ensureTopics(mapReplicationFactor: Int16, offsetSyncsReplicationFactor: Int16) async throws(KafkaClientError) {
        try await store.ensureTopic(replicationFactor: mapReplicationFactor)
        try await offsetSyncs?.ensure(partitions: 1, replicationFactor: offsetSyncsReplicationFactor)
    }

    func close() async {
        await store.close()
        await offsetSyncs?.close()
    }

    var runCount: Int { state.withLockedValue { $0.live.partitions.values.reduce(0) { $0 + $1.runs.count } } }

    var durable: DurableView { state.withLockedValue { $0.durable } }

    /// Takes on partitions: their runs from the map topic, and their stored positions.
    func adopt(_ partitions: Set<TopicPartition>, positions: [TopicPartition: Int64]) async throws(KafkaClientError) {
        let loaded = try await store.load(only: partitions)
        state.withLockedValue { state in
            for partition in partitions {
                for run in loaded.partitions[partition]?.runs ?? [] {
                    state.live.apply(.run(partition, run))
                    state.durable.map.apply(.run(partition, run))
                }
                state.durable.coveredEnds[partition] = (positions[partition] ?? -1) + 1
            }
        }
    }

    func forget(_ partitions: Set<TopicPartition>) {
        state.withLockedValue { state in
            for partition in partitions {
                state.live.forget(partition)
                state.durable.map.forget(partition)
                state.durable.coveredEnds[partition] = nil
                state.logStarts[partition] = nil
                state.sourceEnds[partition] = nil
                state.writtenEnds[partition] = nil
            }
            state.pending.removeAll { partitions.contains($0.partition) }
            state.pendingIndex = [:]
            for (index, entry) in state.pending.enumerated() { state.pendingIndex[entry.partition] = index }
        }
    }

    /// A batch landed at `targetBase`: its runs (target offsets relative to the batch) extend
    /// the map. Nil when the target did not say where: a retried batch already in the log
    /// (DUPLICATE_SEQUENCE_NUMBER). It landed after every earlier batch, so placing it right
    /// after the highest copy can only put a translation behind the truth, never ahead.
    func delivered(_ partition: TopicPartition, runs: [OffsetRun], targetBase: Int64?) {
        state.withLockedValue { state in
            let base = targetBase ?? state.live.partitions[partition]?.runs.map(\.targetEnd).max() ?? 0
            for run in runs {
                guard let grown = state.live.append(partition, OffsetRun(sourceOffset: run.sourceOffset, targetOffset: base + run.targetOffset, span: run.span))
                else { continue }
                if let index = state.pendingIndex[partition], state.pending[index].run.sourceOffset == grown.sourceOffset {
                    state.pending[index].run = grown
                } else {
                    state.pendingIndex[partition] = state.pending.count
                    state.pending.append((partition, grown))
                }
            }
        }
    }

    /// The source partition's bounds, from a fetch.
    func sourceBounds(_ partition: TopicPartition, logStart: Int64, logEnd: Int64) {
        state.withLockedValue { state in
            state.logStarts[partition] = logStart
            state.sourceEnds[partition] = logEnd
        }
    }

    /// Writes the runs made since the last write, the source ends that moved, and tombstones
    /// for runs the source no longer has; then an offset sync per partition that moved (MM2's
    /// form: where the last copied record landed).
    func flush() async throws(KafkaClientError) {
        let (runs, ends, pruned) = state.withLockedValue { state in
            let runs = state.pending
            state.pending = []
            state.pendingIndex = [:]
            var pruned: [(TopicPartition, OffsetRun)] = []
            for (partition, logStart) in state.logStarts {
                pruned += state.live.prune(partition, below: logStart).map { (partition, $0) }
            }
            return (runs, state.sourceEnds.filter { state.writtenEnds[$0.key] != $0.value }, pruned)
        }
        let timestamp = WallClock.nowMs()
        let records = runs.map { OffsetMapRecord.run($0.partition, $0.run) } + ends.map { OffsetMapRecord.sourceEnd($0.key, logEnd: $0.value, timestamp: timestamp) }
        do throws(KafkaClientError) {
            try await store.write(records, pruned: pruned)
        } catch {
            state.withLockedValue { state in
                // Written again next time, before what came since (pruned runs stay pruned in
                // memory; their tombstones only save space and are written on a later prune).
                state.pending = runs + state.pending
                state.pendingIndex = [:]
                for (index, entry) in state.pending.enumerated() { state.pendingIndex[entry.partition] = index }
            }
            throw error
        }
        state.withLockedValue { state in
            for (partition, run) in runs { state.durable.map.apply(.run(partition, run)) }
            for (partition, logStart) in state.logStarts { _ = state.durable.map.prune(partition, below: logStart) }
            for (partition, end) in ends { state.writtenEnds[partition] = end }
        }
        guard let offsetSyncs else { return }
        var latest: [TopicPartition: OffsetRun] = [:]
        for (partition, run) in runs { latest[partition] = run }
        do throws(KafkaClientError) {
            try await offsetSyncs.write(latest.map { partition, run in
                let sync = OffsetSync(topic: partition.topic, partition: partition.partition, upstreamOffset: run.sourceEnd - 1, offset: run.targetEnd - 1)
                return (0, sync.key, sync.value)
            })
        } catch {
            // MM2's syncs are for MM2's tools; Strait's own translation does not need them.
            logger.warning("\(flowName): writing offset syncs to \(offsetSyncs.name) failed: \(error)")
        }
    }

    /// The copier stored these positions (after `flush`): checkpoints may now cover them.
    func stored(_ positions: [TopicPartition: Int64]) {
        state.withLockedValue { state in
            for (partition, position) in positions where state.durable.coveredEnds[partition] != nil {
                state.durable.coveredEnds[partition] = position + 1
            }
        }
    }
}
