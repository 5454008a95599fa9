import KafkaClient
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// Follows where a flow's copies land on the target, for the partitions this agent copies:
/// keeps their offset map, writes each new or grown run to the offset-map topic before the
/// copier stores its positions (MM2's offset syncs follow from the emitter's task), and tells the checkpoint emitter
/// what is safe to translate. The copier feeds it from delivery callbacks, hence the lock.
final class OffsetMapRecorder: Sendable {
    /// What checkpoints may be computed from: the map as written, and per partition the source
    /// offset up to which the mirror's progress is stored (everything below was copied or
    /// passed over, and its runs are written).
    struct DurableView: Sendable {
        var map = OffsetMap()
        var coveredEnds: [TopicPartition: Int64] = [:]

        /// Whether the stored progress covers `committed`: a checkpoint before that would send
        /// consumers back to records they had read.
        func covers(_ partition: TopicPartition, _ committed: Int64) -> Bool {
            coveredEnds[partition].map { committed <= $0 } ?? false
        }

        /// The translation of `committed`, or nil while it is not covered.
        func translate(_ partition: TopicPartition, _ committed: Int64) -> Int64? {
            covers(partition, committed) ? map.translate(partition, committed) : nil
        }
    }

    private struct State {
        var live = OffsetMap()
        var durable = DurableView()
        /// Records to write, in the order they were made; a run that grew since it was queued is
        /// replaced in place (found through `pendingIndex`, the last run queued per partition).
        var pending: [OffsetMapRecord] = []
        var pendingIndex: [TopicPartition: Int] = [:]
        /// The last run written per partition that moved, for MM2's offset syncs.
        var syncsDue: [TopicPartition: OffsetRun] = [:]
        /// The source's log start and end per partition, as the last fetch told.
        var logStarts: [TopicPartition: Int64] = [:]
        var sourceEnds: [TopicPartition: Int64] = [:]
        var writtenEnds: [TopicPartition: Int64] = [:]
    }

    private let store: OffsetMapStore
    private let state = NIOLockedValueBox(State())

    init(store: OffsetMapStore) {
        self.store = store
    }

    func ensureTopic(replicationFactor: Int16) async throws(KafkaClientError) {
        try await store.ensureTopic(replicationFactor: replicationFactor)
    }

    func close() async {
        await store.close()
    }

    var runCount: Int { state.withLockedValue { $0.live.partitions.values.reduce(0) { $0 + $1.runs.count } } }

    var durable: DurableView { state.withLockedValue { $0.durable } }

    /// Takes on partitions: their runs from the map topic, and their stored positions. A
    /// partition with progress but no map (a flow that ran without one) is marked mapped only
    /// from its position on.
    func adopt(_ partitions: Set<TopicPartition>, positions: [TopicPartition: Int64]) async throws(KafkaClientError) {
        let loaded = try await store.load(only: partitions)
        let timestamp = WallClock.nowMs()
        state.withLockedValue { state in
            for partition in partitions {
                var records = (loaded.partitions[partition]?.runs ?? []).map { OffsetMapRecord.run(partition, $0) }
                if let from = loaded.mappedFrom[partition] {
                    records.append(.mappedFrom(partition, offset: from, timestamp: timestamp))
                } else if records.isEmpty, let position = positions[partition] {
                    state.pending.append(.mappedFrom(partition, offset: position + 1, timestamp: timestamp))
                    state.live.apply(.mappedFrom(partition, offset: position + 1, timestamp: timestamp))
                }
                for record in records {
                    state.live.apply(record)
                    state.durable.map.apply(record)
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
                state.syncsDue[partition] = nil
                state.logStarts[partition] = nil
                state.sourceEnds[partition] = nil
                state.writtenEnds[partition] = nil
            }
            state.pending.removeAll { partitions.contains($0.partition) }
            state.pendingIndex = [:]
            for (index, record) in state.pending.enumerated() { state.pendingIndex[record.partition] = index }
        }
    }

    /// A batch landed at `targetBase`: its runs (target offsets relative to the batch) extend
    /// the map.
    func delivered(_ partition: TopicPartition, runs: [OffsetRun], targetBase: Int64) {
        state.withLockedValue { state in
            for run in runs {
                for grown in state.live.append(partition, OffsetRun(sourceOffset: run.sourceOffset, targetOffset: targetBase + run.targetOffset, span: run.span)) {
                    if let index = state.pendingIndex[partition], case .run(_, let queued) = state.pending[index], queued.sourceOffset == grown.sourceOffset {
                        state.pending[index] = .run(partition, grown)
                    } else {
                        state.pendingIndex[partition] = state.pending.count
                        state.pending.append(.run(partition, grown))
                    }
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

    /// Writes the records made since the last write, the source ends that moved, and tombstones
    /// for runs the source no longer has. A record may hold more than the run it is keyed by
    /// still holds (a later copy split it), so with the tombstones of a partition go its
    /// remaining runs again, each under its own key.
    func flush() async throws(KafkaClientError) {
        let (records, ends, pruned) = state.withLockedValue { state in
            var records = state.pending
            state.pending = []
            state.pendingIndex = [:]
            var pruned: [(TopicPartition, OffsetRun)] = []
            for (partition, logStart) in state.logStarts {
                let gone = state.live.prune(partition, below: logStart)
                guard !gone.isEmpty else { continue }
                pruned += gone.map { (partition, $0) }
                records += (state.live.partitions[partition]?.runs ?? []).map { OffsetMapRecord.run(partition, $0) }
            }
            return (records, state.sourceEnds.filter { state.writtenEnds[$0.key] != $0.value }, pruned)
        }
        let timestamp = WallClock.nowMs()
        do throws(KafkaClientError) {
            try await store.write(records + ends.map { OffsetMapRecord.sourceEnd($0.key, logEnd: $0.value, timestamp: timestamp) }, pruned: pruned)
        } catch {
            state.withLockedValue { state in
                // Written again next time, before what came since (pruned runs stay pruned in
                // memory; their tombstones only save space and are written on a later prune).
                state.pending = records + state.pending
                state.pendingIndex = [:]
                for (index, record) in state.pending.enumerated() { state.pendingIndex[record.partition] = index }
            }
            throw error
        }
        state.withLockedValue { state in
            for record in records {
                state.durable.map.apply(record)
                if case .run(let partition, let run) = record, run.sourceEnd >= state.syncsDue[partition]?.sourceEnd ?? 0 { state.syncsDue[partition] = run }
            }
            for (partition, logStart) in state.logStarts { _ = state.durable.map.prune(partition, below: logStart) }
            for (partition, end) in ends { state.writtenEnds[partition] = end }
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

    /// MM2's offset syncs for the partitions whose map moved since the last call: where each
    /// one's last copied record landed. For MM2's tools only (Strait translates with its map),
    /// so the flow writes them from its emitter's task, off the copy's path; what could not be
    /// written is kept for the next call.
    func writeOffsetSyncs(to topic: InternalTopic) async throws(KafkaClientError) {
        let latest = state.withLockedValue { state in
            defer { state.syncsDue = [:] }
            return state.syncsDue
        }
        do throws(KafkaClientError) {
            try await topic.write(latest.map { partition, run in
                let sync = OffsetSync(topic: partition.topic, partition: partition.partition, upstreamOffset: run.sourceEnd - 1, offset: run.targetEnd - 1)
                return (0, sync.key, sync.value)
            })
        } catch {
            state.withLockedValue { $0.syncsDue.merge(latest) { current, _ in current } }
            throw error
        }
    }
}
