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

    /// The group's offsets as committed on the source now, translated.
    public func translateCommitted(group: String) async throws(KafkaClientError) -> Translation {
        let sourceCluster = KafkaCluster(config: source.client)
        let committed: [TopicPartition: KafkaCluster.CommittedOffset]
        do throws(KafkaClientError) {
            committed = try await sourceCluster.committedOffsets(group: group, partitions: nil)
        } catch {
            await sourceCluster.close()
            throw error
        }
        await sourceCluster.close()
        let upstream = committed.filter { flow.replicates($0.key.topic) }.mapValues(\.offset)
        return try await translate(group: group, upstream: upstream)
    }

    /// The group's offsets as last checkpointed on the target, translated with the map as it
    /// is now (which also knows copies made after the checkpoint, such as a restart's).
    public func translateCheckpointed(group: String) async throws(KafkaClientError) -> Translation {
        var upstream: [TopicPartition: Int64] = [:]
        let remoteToSource = try await remoteNames()
        for record in try await InternalTopic(cluster: target, name: flow.policy.checkpointsTopic(flow.source)).readAll() {
            guard let key = record.key, let value = record.value, let checkpoint = try? Checkpoint(key: key, value: value),
                  checkpoint.group == group else { continue }
            let sourceTopic = remoteToSource[checkpoint.topic] ?? flow.policy.upstreamTopic(checkpoint.topic) ?? checkpoint.topic
            upstream[TopicPartition(sourceTopic, checkpoint.partition)] = checkpoint.upstreamOffset
        }
        return try await translate(group: group, upstream: upstream)
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

    private func remoteNames() async throws(KafkaClientError) -> [String: String] {
        var names: [String: String] = [:]
        for partition in try await OffsetMapStore(cluster: target, sourceAlias: flow.source).load().partitions.keys {
            names[flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic)] = partition.topic
        }
        return names
    }

    private func translate(group: String, upstream: [TopicPartition: Int64]) async throws(KafkaClientError) -> Translation {
        let mapStore = OffsetMapStore(cluster: target, sourceAlias: flow.source)
        let map = try await mapStore.load(only: Set(upstream.keys))
        await mapStore.close()
        let progressStore = SourceOffsetStore(cluster: target, topic: flow.offsetsTopic, sourceAlias: flow.source)
        let progress = try await progressStore.load()
        await progressStore.close()
        let partitions = upstream.sorted { $0.key < $1.key }.map { partition, committed in
            let end = map.sourceEnds[partition]
            let copied = max(map.partitions[partition]?.copiedEnd ?? 0, (progress[partition] ?? -1) + 1)
            return Partition(topic: flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic), partition: partition.partition,
                             sourceTopic: partition.topic, upstreamOffset: committed, offset: map.translate(partition, committed),
                             sourceEnd: end?.logEnd, sourceEndTimestamp: end?.timestamp, checkpointLag: end.map { max(0, $0.logEnd - committed) },
                             copyLag: end.map { max(0, $0.logEnd - copied) })
        }
        return Translation(group: group, source: flow.source, target: flow.target, committed: false, partitions: partitions)
    }
}
