import Foundation
import KafkaClient
import KafkaSecurity
import KafkaProtocol
import NIOCore

/// `strait produce`: one record per line of standard input, like Kafka's console producer.
/// With a key separator, the text before its first occurrence is the key.
public struct ConsoleProducer: Sendable {
    public var bootstrap: String
    /// `security.protocol` with its TLS and SASL settings (`--command-config`).
    public var security = ClientSecurity()
    public var topic: String
    public var partition: Int32?
    public var keySeparator: String?
    public var headers: [RecordHeader]
    public var producer: ProducerConfig

    public init(bootstrap: String, topic: String, partition: Int32?, keySeparator: String?, headers: [RecordHeader], producer: ProducerConfig) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.partition = partition
        self.keySeparator = keySeparator
        self.headers = headers
        self.producer = producer
    }

    /// Returns how many records were acknowledged; throws on the first failure.
    /// Standard input's lines, read on a thread of their own so no task blocks on the terminal.
    public static func standardInputLines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let reader = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            reader.start()
        }
    }

    public func run(lines: AsyncStream<String>) async throws -> Int {
        let cluster = KafkaCluster(config: try KafkaClientConfig(bootstrap: bootstrap, clientId: "strait-console-producer", security: security))
        let producer = KafkaProducer(cluster: cluster, config: self.producer)
        let failures = FailureCounter()
        var sent = 0
        for await line in lines {
            var key: ByteBuffer?
            var value = Substring(line)
            if let keySeparator, let range = line.range(of: keySeparator) {
                key = ByteBuffer(string: String(line[..<range.lowerBound]))
                value = line[range.upperBound...]
            }
            try await producer.send(ProducerRecord(topic: topic, partition: partition, key: key, value: ByteBuffer(string: String(value)), headers: headers)) { result in
                if case .failure(let error) = result { failures.add(error) }
            }
            sent += 1
        }
        await producer.close()
        await cluster.close()
        if let first = failures.first { throw first }
        return sent
    }
}
