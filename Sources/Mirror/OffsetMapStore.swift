import KafkaClient
import KafkaProtocol
import NIOCore

/// Strait's persisted offset map of one source cluster (`strait-offset-map.<source>.internal`
/// on the target, one partition, compacted): a record per run, keyed by where the run starts,
/// so compaction keeps every run whose start is still there and only drops the earlier, shorter
/// records of a run that grew. Kept on the target so failover needs nothing from the source.
/// Runs wholly below the source's log start are deleted with tombstones.
final class OffsetMapStore: Sendable {
    private let topic: InternalTopic

    init(cluster: KafkaCluster, sourceAlias: String) {
        topic = InternalTopic(cluster: cluster, name: Self.topicName(sourceAlias: sourceAlias))
    }

    static func topicName(sourceAlias: String) -> String { "strait-offset-map.\(sourceAlias).internal" }

    func ensureTopic(replicationFactor: Int16) async throws(KafkaClientError) {
        try await topic.ensure(partitions: 1, replicationFactor: replicationFactor)
    }

    /// The whole map, or the part about `partitions`.
    func load(only partitions: Set<TopicPartition>? = nil) async throws(KafkaClientError) -> OffsetMap {
        var map = OffsetMap()
        // Tombstones are skipped: they delete runs wholly below the source's log start, which no
        // translation at or above it consults, and the flow prunes such runs again anyway.
        for record in try await topic.readAll() {
            guard let key = record.key, let value = record.value, let parsed = try? OffsetMapRecord(key: key, value: value),
                  partitions?.contains(parsed.partition) ?? true else { continue }
            map.apply(parsed)
        }
        return map
    }

    /// Reads a map once, for those who do not write it.
    static func read(cluster: KafkaCluster, sourceAlias: String, only partitions: Set<TopicPartition>? = nil) async throws(KafkaClientError) -> OffsetMap {
        let store = OffsetMapStore(cluster: cluster, sourceAlias: sourceAlias)
        do throws(KafkaClientError) {
            let map = try await store.load(only: partitions)
            await store.close()
            return map
        } catch {
            await store.close()
            throw error
        }
    }

    /// Writes records, and tombstones for the runs of `pruned` (so compaction drops them).
    func write(_ records: [OffsetMapRecord], pruned: [(TopicPartition, OffsetRun)] = []) async throws(KafkaClientError) {
        try await topic.write(records.map { (0, $0.key, $0.value) } + pruned.map { (0, OffsetMapRecord.run($0.0, $0.1).key, nil) })
    }

    func close() async {
        await topic.close()
    }
}
