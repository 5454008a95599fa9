import KafkaClient
import KafkaProtocol

/// Translates a consumer group's offsets across one flow with the flow's offset map, for
/// `strait offsets translate` (the group's offsets as committed on the source now) and
/// `strait failover` (as last checkpointed: only the target is read, so the source may be gone).
/// Failing back is the same with the reverse flow.
public final class GroupOffsetTranslator: Sendable {
    /// One partition of the group on the target, with the recovery point where it is known:
    /// how far the group's checkpoint and the copy were behind the source's log end as the
    /// mirror last saw it.
    public struct Partition: Encodable, Sendable {
        public var topic: String
        public var partition: Int32
        public var sourceTopic: String
        public var upstreamOffset: Int64
        /// Nil when nothing of the partition was copied yet.
        public var offset: Int64?
        public var sourceEnd: Int64?
        public var sourceEndTimestamp: Int64?
        public var checkpointLag: Int64?
        public var copyLag: Int64?
    }

    public struct Translation: Encodable, Sendable {
        public var group: String
        public var source: String
        public var target: String
        public var committed: Bool
        public var partitions: [Partition]
    }

    public let flow: FlowSettings
    private let source: ClusterSettings
    private let target: KafkaCluster

    /// Fails with a one-line reason when the configuration has no such flow.
    public init(configuration: MirrorConfiguration, source: String, target: String) throws(MirrorConfigError) {
        guard let sourceCluster = configuration.clusters[source] else { throw MirrorConfigError(key: "--source", "'\(source)' is not a cluster of the file") }
        guard configuration.clusters[target] != nil else { throw MirrorConfigError(key: "--target", "'\(target)' is not a cluster of the file") }
        guard let flow = configuration.flows.first(where: { $0.source == source && $0.target == target }) else {
            throw MirrorConfigError(key: "\(source)->\(target)", "no such flow is enabled in the file")
        }
        self.flow = flow
        self.source = sourceCluster
        self.target = KafkaCluster(config: configuration.clusters[target]!.client)
    }

    /// The group's offsets as committed on the source now, translated (forward with the map as
    /// it is, which never puts a position ahead of what was copied).
    public func translateCommitted(group: String) async throws(KafkaClientError) -> Translation {
        let sourceCluster = KafkaCluster(config: source.client)
        let committed: [TopicPartition: KafkaCluster.CommittedOffset]
        let reverse: OffsetMap
        do throws(KafkaClientError) {
            committed = try await sourceCluster.committedOffsets(group: group, partitions: nil)
            reverse = try await OffsetTranslation.loadReverse(flow: flow, source: sourceCluster)
        } catch {
            await sourceCluster.close()
            throw error
        }
        await sourceCluster.close()
        let map = try await OffsetMapStore.read(cluster: target, sourceAlias: flow.source)
        let translation = OffsetTranslation(flow: flow, reverse: reverse)
        var found: [(upstream: TopicPartition, committed: Int64, target: TopicPartition, offset: Int64?)] = []
        for (partition, offset) in committed {
            if let (remote, translated) = translation.translate(partition, offset.offset, forward: map) {
                found.append((partition, offset.offset, remote, translated))
            } else if flow.replicates(partition.topic) {
                found.append((partition, offset.offset, TopicPartition(flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic), partition.partition), nil))
            }
        }
        return try await report(group: group, found, map: map)
    }

    /// The group's offsets as last checkpointed on the target: what the agents translated when
    /// the mirror's stored progress covered them (kept current while they run).
    public func translateCheckpointed(group: String) async throws(KafkaClientError) -> Translation {
        var latest: [TopicPartition: Checkpoint] = [:]
        for record in try await InternalTopic(cluster: target, name: flow.policy.checkpointsTopic(flow.source)).readAll() {
            guard let key = record.key, let value = record.value, let checkpoint = try? Checkpoint(key: key, value: value),
                  checkpoint.group == group else { continue }
            latest[TopicPartition(checkpoint.topic, checkpoint.partition)] = checkpoint
        }
        let map = try await OffsetMapStore.read(cluster: target, sourceAlias: flow.source)
        var sourceNames: [String: String] = [:]
        for partition in map.partitions.keys { sourceNames[flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic)] = partition.topic }
        let found = latest.map { remote, checkpoint in
            // A checkpoint about a replica of the target's own topic (failing back) names the
            // original topic; its source-side name is the replica's.
            let upstream = sourceNames[remote.topic] ?? flow.policy.formatRemoteTopic(sourceAlias: flow.target, topic: remote.topic)
            return (TopicPartition(upstream, remote.partition), checkpoint.upstreamOffset, remote, Optional(checkpoint.offset))
        }
        return try await report(group: group, found, map: map)
    }

    /// Commits the translation to the group on the target (which must have no active members).
    public func commit(_ translation: Translation) async throws(KafkaClientError) -> Translation {
        var offsets: [TopicPartition: KafkaCluster.CommittedOffset] = [:]
        for partition in translation.partitions {
            if let offset = partition.offset { offsets[TopicPartition(partition.topic, partition.partition)] = .init(offset: offset) }
        }
        try await target.commitOffsets(group: translation.group, offsets: offsets)
        var done = translation
        done.committed = !offsets.isEmpty
        return done
    }

    public func close() async {
        await target.close()
    }

    /// The entries with their recovery point, where this flow copies the source topic.
    private func report(group: String, _ found: [(upstream: TopicPartition, committed: Int64, target: TopicPartition, offset: Int64?)],
                        map: OffsetMap) async throws(KafkaClientError) -> Translation {
        let progressStore = SourceOffsetStore(cluster: target, topic: flow.offsetsTopic, sourceAlias: flow.source)
        let progress: [TopicPartition: Int64]
        do throws(KafkaClientError) {
            progress = try await progressStore.load()
        } catch {
            await progressStore.close()
            throw error
        }
        await progressStore.close()
        let partitions = found.sorted { ($0.target, $0.upstream) < ($1.target, $1.upstream) }.map { entry in
            let end = map.sourceEnds[entry.upstream]
            let copied = max(map.partitions[entry.upstream]?.copiedEnd ?? 0, (progress[entry.upstream] ?? -1) + 1)
            return Partition(topic: entry.target.topic, partition: entry.target.partition, sourceTopic: entry.upstream.topic,
                             upstreamOffset: entry.committed, offset: entry.offset, sourceEnd: end?.logEnd, sourceEndTimestamp: end?.timestamp,
                             checkpointLag: end.map { max(0, $0.logEnd - entry.committed) }, copyLag: end.map { max(0, $0.logEnd - copied) })
        }
        return Translation(group: group, source: flow.source, target: flow.target, committed: false, partitions: partitions)
    }
}
