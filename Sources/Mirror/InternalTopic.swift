import KafkaClient
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// One of the mirror's internal topics (progress, offset map, offset syncs, checkpoints,
/// heartbeats): created on first use, read whole, and written with acknowledgement awaited,
/// because every reader of these topics acts on what it finds there.
final class InternalTopic: Sendable {
    let cluster: KafkaCluster
    let name: String
    /// Made on the first write: most users only read.
    private let writer = NIOLockedValueBox<KafkaProducer?>(nil)

    init(cluster: KafkaCluster, name: String) {
        self.cluster = cluster
        self.name = name
    }

    private var producer: KafkaProducer {
        writer.withLockedValue { writer in
            if let writer { return writer }
            var config = ProducerConfig()
            config.linger = .zero
            let made = KafkaProducer(cluster: cluster, config: config)
            writer = made
            return made
        }
    }

    /// Creates the topic unless it exists (MM2's internal topics: compacted).
    func ensure(partitions: Int32, replicationFactor: Int16) async throws(KafkaClientError) {
        let failures = try await KafkaAdmin(cluster: cluster).createTopics([.init(name: name, partitions: partitions, replicationFactor: replicationFactor,
                                                                                  configs: ["cleanup.policy": "compact"])])
        if let failure = failures[name], case .broker(.topicAlreadyExists, _) = failure { return }
        if let failure = failures[name] { throw failure }
    }

    /// Every record with a key, in order per partition, up to the ends the topic has now. A
    /// topic that does not exist reads as empty.
    func readAll() async throws(KafkaClientError) -> [ConsumerRecord] {
        let metadata = try await cluster.watch([name])
        let partitions = (0..<Int32(metadata.partitionCount(name) ?? 0)).map { TopicPartition(name, $0) }
        let ends = try await KafkaAdmin(cluster: cluster).listOffsets(Dictionary(partitions.map { ($0, .latest) }, uniquingKeysWith: { first, _ in first }))
        let wanted = partitions.filter { (ends[$0]?.offset ?? 0) > 0 }
        guard !wanted.isEmpty else { return [] }
        var config = ConsumerConfig()
        config.autoOffsetReset = .earliest
        config.isolationLevel = .readCommitted
        // Its own connections: a Fetch left waiting at the end of the topic would otherwise hold
        // up the requests of others sharing the cluster (a broker answers a connection's
        // requests in order).
        let reader = KafkaCluster(config: cluster.config)
        let consumer = KafkaConsumer(cluster: reader, config: config)
        var records: [ConsumerRecord] = []
        do throws(KafkaClientError) {
            try consumer.assign(wanted)
            try consumer.seekToBeginning(wanted)
            // A large topic may take long to read; only a read that stops moving fails.
            var deadline = NIODeadline.now() + cluster.config.requestTimeout * 2
            while wanted.contains(where: { (consumer.position($0) ?? -1) < ends[$0]!.offset }) {
                guard NIODeadline.now() < deadline else { throw .requestTimedOut(broker: name, api: "reading \(name)", timeoutMs: 0) }
                let polled = try await consumer.poll(timeout: .milliseconds(200))
                if !polled.isEmpty { deadline = NIODeadline.now() + cluster.config.requestTimeout * 2 }
                records += polled.filter { $0.key != nil }
            }
        } catch {
            await consumer.close()
            await reader.close()
            throw error
        }
        await consumer.close()
        await reader.close()
        return records
    }

    /// Writes the records (to the partition given, or by key) and waits until all are acknowledged.
    func write(_ records: [(partition: Int32?, key: ByteBuffer, value: ByteBuffer?)]) async throws(KafkaClientError) {
        guard !records.isEmpty else { return }
        let failure = FailureBox()
        for record in records {
            try await producer.send(ProducerRecord(topic: name, partition: record.partition, key: record.key, value: record.value)) { result in
                if case .failure(let error) = result { failure.set(error) }
            }
        }
        await producer.flush()
        if let error = failure.value { throw error }
    }

    func close() async {
        await writer.withLockedValue { $0 }?.close()
    }
}
