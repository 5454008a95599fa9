import CoreMetrics
import KafkaClient
import KafkaProtocol
import Logging
import NIOCore

/// Emits MM2 checkpoints for the source partitions this agent copies (and, failing back, for
/// replicas of the target's topics: see `OffsetTranslation`): every round (about a
/// second) it reads the selected groups' committed offsets on the source and writes a
/// checkpoint for each one that changed, and all of them every `emit.checkpoints.interval`.
/// Offsets are translated with the offset map as written, and only once the mirror's stored
/// progress covers them, so a checkpoint never sends a consumer past a record it has not read
/// nor, after a crash of the mirror, back to records it had. With `sync.group.offsets.enabled`,
/// checkpoints are also committed to the same groups on the target while those have no members.
/// Runs on its own task, with its own connections, so the copy never waits for it.
final class CheckpointEmitter: @unchecked Sendable {
    private let flow: FlowSettings
    private let source: KafkaCluster
    private let target: KafkaCluster
    private let recorder: OffsetMapRecorder
    private let topic: InternalTopic
    private let logger: Logger
    private var groups: [String] = []
    /// Read again every `refresh.groups.interval.seconds`: the opposite flow may still be copying.
    private var translation: OffsetTranslation
    private var lastGroupRefresh: NIODeadline?
    private var lastReverseRefresh: NIODeadline?
    private var lastFull: NIODeadline?
    private var lastGroupSync = NIODeadline.now()
    /// What was last written per group and target partition.
    private var emitted: [String: [TopicPartition: Checkpoint]] = [:]

    init(flow: FlowSettings, source: KafkaCluster, target: KafkaCluster, recorder: OffsetMapRecorder, logger: Logger) {
        self.flow = flow
        self.source = source
        self.target = target
        self.recorder = recorder
        self.logger = logger
        topic = InternalTopic(cluster: target, name: flow.policy.checkpointsTopic(flow.source))
        translation = OffsetTranslation(flow: flow, reverse: OffsetMap())
    }

    func ensureTopic() async throws(KafkaClientError) {
        try await topic.ensure(partitions: 1, replicationFactor: flow.checkpointsReplicationFactor)
    }

    /// Returns the checkpoints it wrote.
    func round() async throws(KafkaClientError) -> [Checkpoint] {
        let now = NIODeadline.now()
        if lastGroupRefresh.map({ flow.refreshGroups && now - $0 >= flow.refreshGroupsInterval }) ?? true {
            groups = try await KafkaAdmin(cluster: source).listGroups()
                .filter { ($0.protocolType == "consumer" || $0.protocolType.isEmpty) && flow.groups.matches($0.groupId) }.map(\.groupId)
            emitted = emitted.filter { groups.contains($0.key) }
            lastGroupRefresh = now
        }
        if lastReverseRefresh.map({ now - $0 >= flow.refreshGroupsInterval }) ?? true {
            translation = OffsetTranslation(flow: flow, reverse: try await OffsetTranslation.loadReverse(flow: flow, source: source))
            lastReverseRefresh = now
        }
        guard !recorder.durable.coveredEnds.isEmpty || !translation.reverse.partitions.isEmpty else { return [] }
        let full = lastFull.map { now - $0 >= flow.emitCheckpointsInterval } ?? true
        var current: [String: [TopicPartition: Checkpoint]] = [:]
        var changed: [Checkpoint] = []
        let committedByGroup = await committedOffsets()
        // Taken after the slow part, so it is as fresh as can be (and not held across awaits).
        let view = recorder.durable
        for (group, committed) in committedByGroup {
            for (partition, offset) in committed {
                // A group ahead of the stored progress (a consumer keeping up with a busy
                // partition always is, by a moment) is checkpointed where that progress ends:
                // an offset it has read, so after a failover it re-reads a few records and skips
                // none. Waiting for the progress to cover it would, under steady traffic, never
                // checkpoint it at all.
                var upstream = offset.offset
                if translation.translatesForward(partition.topic), let end = view.coveredEnds[partition], upstream > end { upstream = end }
                guard let (remote, translated) = translation.translate(partition, upstream, forward: view) else { continue }
                let checkpoint = Checkpoint(group: group, topic: remote.topic, partition: remote.partition, upstreamOffset: upstream,
                                            offset: translated, metadata: offset.metadata ?? "")
                current[group, default: [:]][remote] = checkpoint
                if full || emitted[group]?[remote] != checkpoint { changed.append(checkpoint) }
            }
        }
        try await topic.write(changed.map { (0, $0.key, $0.value) })
        // MM2's checkpoint-latency-ms: from reading the group's offsets to the checkpoint written.
        let latency = (NIODeadline.now() - now).nanoseconds / 1_000_000
        for checkpoint in changed {
            Recorder(label: "strait_mirror_checkpoint_latency_ms", dimensions: [
                ("flow", flow.name), ("topic", checkpoint.topic), ("partition", String(checkpoint.partition)),
            ], aggregate: true).record(latency)
        }
        for (group, checkpoints) in current { emitted[group, default: [:]].merge(checkpoints) { $1 } }
        if full { lastFull = now }
        if flow.syncGroupOffsets && now - lastGroupSync >= flow.syncGroupOffsetsInterval {
            lastGroupSync = now
            for (group, checkpoints) in current { await syncGroup(group, checkpoints) }
        }
        return changed
    }

    /// The committed offsets of every selected group, asked for `concurrency` groups at a time:
    /// one after the other, a thousand groups would take a round longer than a second. A group
    /// that cannot be read (deleted since the listing, its coordinator moving) waits for the
    /// next round.
    private func committedOffsets() async -> [(String, [TopicPartition: KafkaCluster.CommittedOffset])] {
        let source = self.source
        return await withTaskGroup(of: (String, [TopicPartition: KafkaCluster.CommittedOffset]?).self) { tasks in
            var pending = groups.makeIterator()
            var results: [(String, [TopicPartition: KafkaCluster.CommittedOffset])] = []
            func start() {
                guard let group = pending.next() else { return }
                tasks.addTask { (group, try? await source.committedOffsets(group: group, partitions: nil)) }
            }
            for _ in 0..<Self.concurrency { start() }
            for await (group, committed) in tasks {
                if let committed { results.append((group, committed)) }
                start()
            }
            return results
        }
    }

    private static let concurrency = 16

    /// Commits the checkpoints to the group on the target, if nobody consumes there in it, and
    /// only where they move its offsets forward (a consumer that already read further on the
    /// target must not be sent back).
    private func syncGroup(_ group: String, _ checkpoints: [TopicPartition: Checkpoint]) async {
        do throws(KafkaClientError) {
            let admin = KafkaAdmin(cluster: target)
            guard try await admin.describeGroup(group).members.isEmpty else { return }
            let existing = try await target.committedOffsets(group: group, partitions: Array(checkpoints.keys))
            let forward = checkpoints.filter { partition, checkpoint in existing[partition].map { $0.offset < checkpoint.offset } ?? true }
            guard !forward.isEmpty else { return }
            try await target.commitOffsets(group: group, offsets: forward.mapValues { KafkaCluster.CommittedOffset(offset: $0.offset, metadata: $0.metadata) })
        } catch {
            // Members joined meanwhile (the commit is refused) or the target is away: next time.
            logger.debug("\(flow.name): group offset sync of \(group) skipped: \(error)")
        }
    }

    func close() async {
        await topic.close()
    }
}
