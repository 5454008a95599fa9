import KafkaClient
import KafkaSecurity
import KafkaProtocol
import NIOCore

/// `strait perf consume`: the counterpart of Kafka's consumer perf tool. Reads `records`
/// records of `topic` from the beginning of every partition (or from a group's commits), through
/// the per-record `poll` API. Latency is each record's age when consumed (now minus its
/// timestamp): end-to-end latency when a producer runs at the same time.
public struct ConsumePerformance: Sendable {
    public var bootstrap: String
    /// `security.protocol` with its TLS and SASL settings (`--command-config`).
    public var security = ClientSecurity()
    public var topic: String
    public var records: Int
    public var consumer: ConsumerConfig
    public var timeout: TimeAmount

    public init(bootstrap: String, topic: String, records: Int, consumer: ConsumerConfig, timeout: TimeAmount) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.records = records
        self.consumer = consumer
        self.timeout = timeout
    }

    public func run() async throws(KafkaClientError) -> PerformanceReport {
        let cluster = KafkaCluster(config: try KafkaClientConfig(bootstrap: bootstrap, clientId: "strait-perf-consumer", security: security))
        defer { Task { await cluster.close() } }
        var config = self.consumer
        config.autoOffsetReset = .earliest
        let consumer = KafkaConsumer(cluster: cluster, config: config)
        if config.groupId != nil {
            try consumer.subscribe(topics: [topic])
        } else {
            let metadata = try await cluster.watch([topic])
            guard let count = metadata.partitionCount(topic) else { throw .unknownTopic(topic) }
            try consumer.assign((0..<Int32(count)).map { TopicPartition(topic, $0) })
        }
        let latencies = LatencyRecorder()
        var consumed = 0
        var bytes = 0
        var started: NIODeadline?
        let deadline = NIODeadline.now() + timeout
        while consumed < records && NIODeadline.now() < deadline {
            let batch = try await consumer.poll(timeout: .milliseconds(100))
            guard !batch.isEmpty else { continue }
            if started == nil { started = .now() }
            let nowMs = WallClock.nowMs()
            for record in batch {
                bytes += (record.value?.readableBytes ?? 0) + (record.key?.readableBytes ?? 0)
                latencies.record(microseconds: (nowMs - record.timestamp) * 1000)
            }
            consumed += batch.count
        }
        let elapsed = started.map { Double((NIODeadline.now() - $0).nanoseconds) / 1e9 } ?? 0
        await consumer.close()
        let summary = latencies.summary()
        return PerformanceReport(records: consumed, bytes: bytes, seconds: elapsed, latency: summary, failures: max(0, records - consumed))
    }
}
