import Foundation
import KafkaClient
import KafkaSecurity
import KafkaProtocol
import NIOCore

/// `strait perf produce`: the counterpart of Kafka's producer perf tool, on Strait's client.
/// One payload of `recordSize` random bytes is sent `records` times through the per-record
/// API, each with a delivery callback; latency is from `send` to the callback, measured on one
/// record in `latencySampling` (Kafka's tool samples too: two clock reads per record would cost
/// more than the producer's own work per record).
public struct ProducePerformance: Sendable {
    public var bootstrap: String
    /// `security.protocol` with its TLS and SASL settings (`--command-config`).
    public var security = ClientSecurity()
    public var topic: String
    public var records: Int
    public var recordSize: Int
    /// Creates the topic with this many partitions when it does not exist.
    public var partitions: Int32?
    /// Records per second; nil for as fast as possible.
    public var rate: Int?
    public var producer: ProducerConfig
    static let latencySampling = 8

    public init(bootstrap: String, topic: String, records: Int, recordSize: Int, partitions: Int32?, rate: Int?, producer: ProducerConfig) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.records = records
        self.recordSize = recordSize
        self.partitions = partitions
        self.rate = rate
        self.producer = producer
    }

    public func run() async throws(KafkaClientError) -> PerformanceReport {
        let cluster = KafkaCluster(config: try KafkaClientConfig(bootstrap: bootstrap, clientId: "strait-perf-producer", security: security))
        defer { Task { await cluster.close() } }
        if let partitions {
            let failures = try await KafkaAdmin(cluster: cluster).createTopics([.init(name: topic, partitions: partitions)])
            if let error = failures[topic] {
                guard case .broker(.topicAlreadyExists, _) = error else { throw error }
            }
        }
        var payload = ByteBuffer()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<recordSize { payload.writeInteger(UInt8.random(in: 65...90, using: &generator)) }
        let producer = KafkaProducer(cluster: cluster, config: self.producer)
        let latencies = LatencyRecorder()
        let failures = FailureCounter()
        let started = NIODeadline.now()
        for index in 0..<records {
            if let rate, index % max(1, rate / 1000) == 0 {
                let due = started + .nanoseconds(Int64(Double(index) / Double(rate) * 1e9))
                let ahead = due - .now()
                if ahead > .zero { try? await Task.sleep(nanoseconds: UInt64(ahead.nanoseconds)) }
            }
            let record = ProducerRecord(topic: topic, value: payload)
            if index % Self.latencySampling == 0 {
                let sent = NIODeadline.now()
                try await producer.send(record) { result in
                    switch result {
                    case .success: latencies.record(microseconds: (NIODeadline.now() - sent).nanoseconds / 1000)
                    case .failure(let error): failures.add(error)
                    }
                }
            } else {
                try await producer.send(record) { result in
                    if case .failure(let error) = result { failures.add(error) }
                }
            }
        }
        await producer.flush()
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        await producer.close()
        let failed = failures.count
        return PerformanceReport(records: records - failed, bytes: (records - failed) * recordSize, seconds: elapsed, latency: latencies.summary(), failures: failed)
    }
}
