import KafkaClient
import KafkaProtocol
import NIOCore

/// A flow's progress on the target cluster, in MirrorMaker 2's offsets topic
/// (`mm2-offsets.<source>.internal`, Kafka Connect's offset storage: compacted, 25 partitions,
/// records keyed by source partition). Agents sharing a flow read it again whenever they are
/// given partitions, so each resumes where the previous owner stopped.
final class SourceOffsetStore: Sendable {
    let cluster: KafkaCluster
    let topic: String
    let sourceAlias: String
    private let producer: KafkaProducer

    static let partitions: Int32 = 25

    init(cluster: KafkaCluster, topic: String, sourceAlias: String) {
        self.cluster = cluster
        self.topic = topic
        self.sourceAlias = sourceAlias
        var config = ProducerConfig()
        config.linger = .zero
        producer = KafkaProducer(cluster: cluster, config: config)
    }

    /// Creates the topic as Connect would, unless it exists.
    func ensureTopic(replicationFactor: Int16) async throws(KafkaClientError) {
        let admin = KafkaAdmin(cluster: cluster)
        let failures = try await admin.createTopics([.init(name: topic, partitions: Self.partitions, replicationFactor: replicationFactor,
                                                           configs: ["cleanup.policy": "compact"])])
        if let failure = failures[topic], case .broker(.topicAlreadyExists, _) = failure { return }
        if let failure = failures[topic] { throw failure }
    }

    /// Every stored position of this flow's source cluster: the last copied offset per source
    /// partition, read to the end of the topic as it is now.
    func load() async throws(KafkaClientError) -> [TopicPartition: Int64] {
        let metadata = try await cluster.watch([topic])
        let count = metadata.partitionCount(topic) ?? 0
        let partitions = (0..<Int32(count)).map { TopicPartition(topic, $0) }
        let ends = try await KafkaAdmin(cluster: cluster).listOffsets(Dictionary(uniqueKeysWithValues: partitions.map { ($0, .latest) }))
        let wanted = partitions.filter { (ends[$0]?.offset ?? 0) > 0 }
        var result: [TopicPartition: Int64] = [:]
        guard !wanted.isEmpty else { return result }
        var config = ConsumerConfig()
        config.autoOffsetReset = .earliest
        config.isolationLevel = .readCommitted
        // Its own connections: a Fetch left waiting at the end of the topic would otherwise hold
        // up the flow's requests behind it (a broker answers a connection's requests in order).
        let reader = KafkaCluster(config: cluster.config)
        let consumer = KafkaConsumer(cluster: reader, config: config)
        do throws(KafkaClientError) {
            try consumer.assign(wanted)
            try consumer.seekToBeginning(wanted)
            let deadline = NIODeadline.now() + cluster.config.requestTimeout * 2
            while wanted.contains(where: { (consumer.position($0) ?? -1) < ends[$0]!.offset }) {
                guard NIODeadline.now() < deadline else { throw .requestTimedOut(broker: "\(topic)", api: "reading the mirror's offsets", timeoutMs: 0) }
                for record in try await consumer.poll(timeout: .milliseconds(200)) {
                    guard let key = record.key, let parsed = SourceOffsetRecord(key: Array(buffer: key), value: record.value.map { Array(buffer: $0) }),
                          parsed.cluster == sourceAlias else { continue }
                    result[TopicPartition(parsed.topic, parsed.partition)] = parsed.offset
                }
            }
        } catch {
            await consumer.close()
            await reader.close()
            throw error
        }
        await consumer.close()
        await reader.close()
        return result
    }

    /// Writes positions and waits until the target has them.
    func store(_ offsets: [TopicPartition: Int64]) async throws(KafkaClientError) {
        guard !offsets.isEmpty else { return }
        let failure = FailureBox()
        for (partition, offset) in offsets {
            let record = SourceOffsetRecord(cluster: sourceAlias, topic: partition.topic, partition: partition.partition, offset: offset)
            try await producer.send(ProducerRecord(topic: topic, key: ByteBuffer(string: record.key), value: record.value.map { ByteBuffer(string: $0) })) { result in
                if case .failure(let error) = result { failure.set(error) }
            }
        }
        await producer.flush()
        if let error = failure.value { throw error }
    }

    func close() async {
        await producer.close()
    }
}
