import Foundation
import KafkaClient
import KafkaSecurity
import KafkaProtocol
import NIOCore

/// `strait consume`: prints records as JSON lines (partition, offset, timestamp, key, value,
/// headers). Text that is not UTF-8 is printed in base64 under `key_base64`/`value_base64`.
public struct ConsoleConsumer: Sendable {
    public var bootstrap: String
    /// `security.protocol` with its TLS and SASL settings (`--command-config`).
    public var security = ClientSecurity()
    public var topic: String
    /// A partition and offset to start from; otherwise every partition (or the group's).
    public var partition: Int32?
    public var offset: Int64?
    public var maxRecords: Int?
    /// Stop after this long without a new record.
    public var idleTimeout: TimeAmount
    public var consumer: ConsumerConfig

    public init(bootstrap: String, topic: String, partition: Int32?, offset: Int64?, maxRecords: Int?, idleTimeout: TimeAmount, consumer: ConsumerConfig) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.maxRecords = maxRecords
        self.idleTimeout = idleTimeout
        self.consumer = consumer
    }

    public func run(output: @Sendable (String) -> Void) async throws(KafkaClientError) -> Int {
        let cluster = KafkaCluster(config: try KafkaClientConfig(bootstrap: bootstrap, clientId: "strait-console-consumer", security: security))
        let consumer = KafkaConsumer(cluster: cluster, config: self.consumer)
        if let partition {
            try consumer.assign([TopicPartition(topic, partition)])
            if let offset { try consumer.seek(TopicPartition(topic, partition), to: offset) }
        } else if self.consumer.groupId != nil {
            try consumer.subscribe(topics: [topic])
        } else {
            let metadata = try await cluster.watch([topic])
            guard let count = metadata.partitionCount(topic) else { throw .unknownTopic(topic) }
            try consumer.assign((0..<Int32(count)).map { TopicPartition(topic, $0) })
        }
        var printed = 0
        var lastRecord = NIODeadline.now()
        while printed < (maxRecords ?? .max) && NIODeadline.now() - lastRecord < idleTimeout {
            for record in try await consumer.poll(timeout: .milliseconds(100)) where printed < (maxRecords ?? .max) {
                output(Self.json(record))
                printed += 1
                lastRecord = .now()
            }
        }
        if self.consumer.groupId != nil { try await consumer.commit() }
        await consumer.close()
        await cluster.close()
        return printed
    }

    static func json(_ record: ConsumerRecord) -> String {
        var object: [String: Any] = ["topic": record.topicPartition.topic, "partition": record.topicPartition.partition,
                                     "offset": record.offset, "timestamp": record.timestamp]
        func put(_ name: String, _ bytes: ByteBuffer?) {
            guard let bytes else {
                object[name] = NSNull()
                return
            }
            let raw = Data(bytes.readableBytesView)
            if let text = String(data: raw, encoding: .utf8) {
                object[name] = text
            } else {
                object[name + "_base64"] = raw.base64EncodedString()
            }
        }
        put("key", record.key)
        put("value", record.value)
        var headers: [[Any]] = []
        for header in record.headers {
            headers.append([header.key, header.value.map { String(decoding: Data($0.readableBytesView), as: UTF8.self) } ?? NSNull()])
        }
        object["headers"] = headers
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
