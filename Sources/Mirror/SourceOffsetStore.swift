import KafkaClient
import KafkaProtocol
import NIOCore

/// A flow's progress on the target cluster, in MirrorMaker 2's offsets topic
/// (`mm2-offsets.<source>.internal`, Kafka Connect's offset storage: compacted, 25 partitions,
/// records keyed by source partition). Agents sharing a flow read it again whenever they are
/// given partitions, so each resumes where the previous owner stopped.
final class SourceOffsetStore: Sendable {
    let sourceAlias: String
    private let topic: InternalTopic

    static let partitions: Int32 = 25

    init(cluster: KafkaCluster, topic: String, sourceAlias: String) {
        self.sourceAlias = sourceAlias
        self.topic = InternalTopic(cluster: cluster, name: topic)
    }

    /// Creates the topic as Connect would, unless it exists.
    func ensureTopic(replicationFactor: Int16) async throws(KafkaClientError) {
        try await topic.ensure(partitions: Self.partitions, replicationFactor: replicationFactor)
    }

    /// Every stored position of this flow's source cluster: the last copied offset per source
    /// partition, read to the end of the topic as it is now.
    func load() async throws(KafkaClientError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for record in try await topic.readAll() {
            guard let key = record.key, let parsed = SourceOffsetRecord(key: Array(buffer: key), value: record.value.map { Array(buffer: $0) }),
                  parsed.cluster == sourceAlias else { continue }
            result[TopicPartition(parsed.topic, parsed.partition)] = parsed.offset
        }
        return result
    }

    /// Writes positions and waits until the target has them.
    func store(_ offsets: [TopicPartition: Int64]) async throws(KafkaClientError) {
        try await topic.write(offsets.map { partition, offset in
            let record = SourceOffsetRecord(cluster: sourceAlias, topic: partition.topic, partition: partition.partition, offset: offset)
            return (nil, ByteBuffer(string: record.key), record.value.map { ByteBuffer(string: $0) })
        })
    }

    func close() async {
        await topic.close()
    }
}
