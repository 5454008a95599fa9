import ArgumentParser
import KafkaSecurity
import Foundation
import KafkaClient
import KafkaProtocol
import StraitDaemon

/// `strait perf produce|consume`: throughput and latency of Strait's client against any cluster.
struct PerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Measure produce or consume throughput and latency against a Kafka-protocol cluster.",
        subcommands: [PerfProduceCommand.self, PerfConsumeCommand.self]
    )
}

struct PerfProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "produce", abstract: "Produce records as fast as possible (or at --rate) and report.")

    @Option(help: "Bootstrap servers, HOST:PORT[,HOST:PORT...].") var bootstrap: String
    @Option(help: "Topic to produce to.") var topic: String
    @Option(help: "Number of records.") var records: Int
    @Option(name: .customLong("record-size"), help: "Value size in bytes.") var recordSize: Int
    @Option(help: "Create the topic with this many partitions if it does not exist.") var partitions: Int32?
    @Option(help: "acks: all, 1 or 0.") var acks: String = "all"
    @Option(help: "Codec: none, gzip, snappy, lz4, zstd.") var compression: String = "none"
    @Option(help: "Records per second (default: unlimited).") var rate: Int?
    @Option(name: .customLong("linger-ms"), help: "linger.ms.") var lingerMs: Int?
    @Option(name: .customLong("batch-size"), help: "batch.size in bytes.") var batchSize: Int?
    @Option(name: .customLong("producer-property"), help: "Any producer setting, key=value (repeatable).") var properties: [String] = []
    @Option(name: .customLong("command-config"), help: "A client properties file: security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config (${file:...} and ${env:...} resolved).") var commandConfig: String?
    @Flag(help: "Print one JSON object instead of a line of text.") var json = false

    func validate() throws {
        guard records > 0 else { throw ValidationError("--records must be positive") }
        guard recordSize >= 0 else { throw ValidationError("--record-size must not be negative") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        var (security, settings) = try ClientOptions.security(commandConfig: commandConfig, properties)
        settings["acks"] = acks
        settings["compression.type"] = compression
        if acks != "all" && acks != "-1" && settings["enable.idempotence"] == nil { settings["enable.idempotence"] = "false" }
        if let lingerMs { settings["linger.ms"] = String(lingerMs) }
        if let batchSize { settings["batch.size"] = String(batchSize) }
        var config = ProducerConfig()
        let report: PerformanceReport
        do {
            try config.apply(settings)
            var performance = ProducePerformance(bootstrap: bootstrap, topic: topic, records: records, recordSize: recordSize,
                                                 partitions: partitions, rate: rate, producer: config)
            performance.security = security
            report = try await performance.run()
        } catch {
            throw CommandFailure(error)
        }
        print(json ? report.json() : report.line(verb: "sent"))
        if report.failures > 0 || report.records < records { throw ExitCode(1) }
    }
}

struct PerfConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consume", abstract: "Consume records from the beginning and report.")

    @Option(help: "Bootstrap servers, HOST:PORT[,HOST:PORT...].") var bootstrap: String
    @Option(help: "Topic to consume.") var topic: String
    @Option(help: "Number of records to consume.") var records: Int
    @Option(help: "Consume as this group (default: no group, every partition from the start).") var group: String?
    @Option(name: .customLong("timeout-ms"), help: "Give up after this long.") var timeoutMs: Int64 = 120_000
    @Option(name: .customLong("consumer-property"), help: "Any consumer setting, key=value (repeatable).") var properties: [String] = []
    @Option(name: .customLong("command-config"), help: "A client properties file: security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config (${file:...} and ${env:...} resolved).") var commandConfig: String?
    @Flag(help: "Print one JSON object instead of a line of text.") var json = false

    func run() async throws {
        var config = ConsumerConfig(groupId: group)
        let report: PerformanceReport
        let (security, settings) = try ClientOptions.security(commandConfig: commandConfig, properties)
        do {
            try config.apply(settings)
            var performance = ConsumePerformance(bootstrap: bootstrap, topic: topic, records: records, consumer: config,
                                                 timeout: .milliseconds(timeoutMs))
            performance.security = security
            report = try await performance.run()
        } catch {
            throw CommandFailure(error)
        }
        print(json ? report.json() : report.line(verb: "consumed"))
        if report.records < records { throw ExitCode(1) }
    }
}

/// Parsing shared by the client commands.
enum ClientOptions {
    /// The security settings among a `--command-config` file and `--*-property` pairs (pairs
    /// win), with `${file:...}` and `${env:...}` resolved; the other settings are returned for
    /// the producer or consumer.
    static func security(commandConfig: String?, _ pairs: [String]) throws -> (ClientSecurity, [String: String]) {
        var settings: [String: String] = [:]
        if let commandConfig {
            guard let text = try? String(contentsOfFile: commandConfig, encoding: .utf8) else {
                throw CommandFailure(message: "--command-config: cannot read \(commandConfig)")
            }
            for entry in JavaProperties(parsing: text).entries { settings[entry.key] = entry.value }
        }
        settings.merge(try properties(pairs)) { $1 }
        do {
            let providers = try ConfigProviders(declarations: settings)
            for (key, value) in settings where !key.hasPrefix("config.providers") {
                settings[key] = try providers.resolve(value, key: key)
            }
            let security = try ClientSecurity(settings.filter { ClientSecurity.keys.contains($0.key) })
            return (security, settings.filter { !ClientSecurity.keys.contains($0.key) && !$0.key.hasPrefix("config.providers") })
        } catch {
            throw CommandFailure(message: error.description)
        }
    }

    static func properties(_ pairs: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("expected key=value, got '\(pair)'")
            }
            result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return result
    }
}
