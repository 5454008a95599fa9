import ArgumentParser
import Foundation
import KafkaClient
import KafkaProtocol
import NIOCore
import StraitDaemon

/// `strait produce`: standard input to a topic, one record per line.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "produce", abstract: "Produce one record per line of standard input.")

    @Option(help: "Bootstrap servers, HOST:PORT[,HOST:PORT...].") var bootstrap: String
    @Option(help: "Topic to produce to.") var topic: String
    @Option(help: "Partition (default: by key, or sticky for keyless records).") var partition: Int32?
    @Option(name: .customLong("key-separator"), help: "Split each line into key and value at the first occurrence of this text.") var keySeparator: String?
    @Option(name: .customLong("header"), help: "A header for every record, key=value (repeatable).") var headers: [String] = []
    @Option(name: .customLong("producer-property"), help: "Any producer setting, key=value (repeatable).") var properties: [String] = []
    @Option(name: .customLong("command-config"), help: "A client properties file: security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config (${file:...} and ${env:...} resolved).") var commandConfig: String?

    func run() async throws {
        let parsedHeaders = try ClientOptions.properties(headers).sorted { $0.key < $1.key }.map { RecordHeader(key: $0.key, value: ByteBuffer(string: $0.value)) }
        var config = ProducerConfig()
        let (security, settings) = try ClientOptions.security(commandConfig: commandConfig, properties)
        do {
            try config.apply(settings)
            var producer = ConsoleProducer(bootstrap: bootstrap, topic: topic, partition: partition, keySeparator: keySeparator,
                                           headers: parsedHeaders, producer: config)
            producer.security = security
            let count = try await producer.run(lines: ConsoleProducer.standardInputLines())
            FileHandle.standardError.write(Data("\(count) records produced\n".utf8))
        } catch {
            throw CommandFailure(error)
        }
    }
}

/// `strait consume`: a topic to standard output, one JSON object per record.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consume", abstract: "Print records as JSON lines.")

    @Option(help: "Bootstrap servers, HOST:PORT[,HOST:PORT...].") var bootstrap: String
    @Option(help: "Topic to consume.") var topic: String
    @Option(help: "Consume as this group, from its committed offsets.") var group: String?
    @Option(help: "Only this partition.") var partition: Int32?
    @Option(help: "Start at this offset (with --partition).") var offset: Int64?
    @Flag(name: .customLong("from-beginning"), help: "Without committed offsets, start at the beginning (default: the end).") var fromBeginning = false
    @Option(name: .customLong("max-records"), help: "Stop after this many records.") var maxRecords: Int?
    @Option(name: .customLong("idle-timeout-ms"), help: "Stop after this long without a record.") var idleTimeoutMs: Int64 = 5000
    @Option(help: "read_committed or read_uncommitted.") var isolation: String = "read_uncommitted"
    @Option(name: .customLong("consumer-property"), help: "Any consumer setting, key=value (repeatable).") var properties: [String] = []
    @Option(name: .customLong("command-config"), help: "A client properties file: security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config (${file:...} and ${env:...} resolved).") var commandConfig: String?

    func validate() throws {
        if offset != nil && partition == nil { throw ValidationError("--offset needs --partition") }
    }

    func run() async throws {
        var config = ConsumerConfig(groupId: group)
        config.enableAutoCommit = false
        var (security, settings) = try ClientOptions.security(commandConfig: commandConfig, properties)
        do {
            settings["isolation.level"] = isolation
            settings["auto.offset.reset"] = settings["auto.offset.reset"] ?? (fromBeginning ? "earliest" : "latest")
            try config.apply(settings)
            var consumer = ConsoleConsumer(bootstrap: bootstrap, topic: topic, partition: partition, offset: offset, maxRecords: maxRecords,
                                           idleTimeout: .milliseconds(idleTimeoutMs), consumer: config)
            consumer.security = security
            let count = try await consumer.run { line in print(line) }
            FileHandle.standardError.write(Data("\(count) records consumed\n".utf8))
        } catch {
            throw CommandFailure(error)
        }
    }
}
