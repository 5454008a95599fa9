import KafkaProtocol

/// A topic-level configuration Kafka defines: its name, its default, the broker setting that
/// supplies the default when set (its "synonym"), and how its value is checked.
///
/// The table is the single source of names and defaults: `LogConfig` reads it, and the broker
/// answers DescribeConfigs, AlterConfigs and CreateTopics from it.
public struct TopicConfigDefinition: Sendable {
    public enum ValueType: Sendable {
        case long(min: Int64)
        case int(min: Int64)
        case double
        case boolean
        case choice([String])
        case list([String])
        case string
        /// A Kafka release as the deprecated `message.format.version` takes it ("2.8", "3.0-IV1").
        case kafkaVersion
    }

    public var name: String
    public var defaultValue: String
    public var brokerSynonym: String?
    public var type: ValueType
    /// Kafka reports sensitive values as null; none of the topic configs here are.
    public var isSensitive: Bool { false }

    public static let all: [TopicConfigDefinition] = [
        .init(name: "cleanup.policy", defaultValue: "delete", brokerSynonym: "log.cleanup.policy", type: .list(["delete", "compact"])),
        .init(name: "compression.type", defaultValue: "producer", brokerSynonym: "compression.type",
              type: .choice(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"])),
        .init(name: "delete.retention.ms", defaultValue: "86400000", brokerSynonym: "log.cleaner.delete.retention.ms", type: .long(min: 0)),
        .init(name: "file.delete.delay.ms", defaultValue: "60000", brokerSynonym: "log.segment.delete.delay.ms", type: .long(min: 0)),
        .init(name: "flush.messages", defaultValue: "9223372036854775807", brokerSynonym: "log.flush.interval.messages", type: .long(min: 1)),
        .init(name: "flush.ms", defaultValue: "9223372036854775807", brokerSynonym: "log.flush.interval.ms", type: .long(min: 0)),
        .init(name: "index.interval.bytes", defaultValue: "4096", brokerSynonym: "log.index.interval.bytes", type: .int(min: 0)),
        .init(name: "max.compaction.lag.ms", defaultValue: "9223372036854775807", brokerSynonym: "log.cleaner.max.compaction.lag.ms", type: .long(min: 1)),
        .init(name: "max.message.bytes", defaultValue: "1048588", brokerSynonym: "message.max.bytes", type: .int(min: 0)),
        // Deprecated in Kafka 3.0 and still accepted by 3.x (ignored for the v2 format, the only
        // one Strait writes); tools that copy topic configs between clusters send it.
        .init(name: "message.format.version", defaultValue: "3.0-IV1", brokerSynonym: "log.message.format.version", type: .kafkaVersion),
        .init(name: "message.timestamp.after.max.ms", defaultValue: "9223372036854775807", brokerSynonym: "log.message.timestamp.after.max.ms", type: .long(min: 0)),
        .init(name: "message.timestamp.before.max.ms", defaultValue: "9223372036854775807", brokerSynonym: "log.message.timestamp.before.max.ms", type: .long(min: 0)),
        .init(name: "message.timestamp.type", defaultValue: "CreateTime", brokerSynonym: "log.message.timestamp.type", type: .choice(["CreateTime", "LogAppendTime"])),
        .init(name: "min.cleanable.dirty.ratio", defaultValue: "0.5", brokerSynonym: "log.cleaner.min.cleanable.ratio", type: .double),
        .init(name: "min.compaction.lag.ms", defaultValue: "0", brokerSynonym: "log.cleaner.min.compaction.lag.ms", type: .long(min: 0)),
        .init(name: "min.insync.replicas", defaultValue: "1", brokerSynonym: "min.insync.replicas", type: .int(min: 1)),
        .init(name: "preallocate", defaultValue: "false", brokerSynonym: "log.preallocate", type: .boolean),
        .init(name: "retention.bytes", defaultValue: "-1", brokerSynonym: "log.retention.bytes", type: .long(min: -1)),
        .init(name: "retention.ms", defaultValue: "604800000", brokerSynonym: "log.retention.ms", type: .long(min: -1)),
        .init(name: "segment.bytes", defaultValue: "1073741824", brokerSynonym: "log.segment.bytes", type: .int(min: 14)),
        .init(name: "segment.index.bytes", defaultValue: "10485760", brokerSynonym: "log.index.size.max.bytes", type: .int(min: 4)),
        .init(name: "segment.jitter.ms", defaultValue: "0", brokerSynonym: "log.roll.jitter.ms", type: .long(min: 0)),
        .init(name: "segment.ms", defaultValue: "604800000", brokerSynonym: "log.roll.ms", type: .long(min: 1)),
        .init(name: "unclean.leader.election.enable", defaultValue: "false", brokerSynonym: "unclean.leader.election.enable", type: .boolean),
    ]

    public static let byName: [String: TopicConfigDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Checks a value against the type; returns a one-line reason when it is invalid.
    public func validate(_ value: String) -> String? {
        switch type {
        case .long(let minimum), .int(let minimum):
            guard let number = Int64(value.trimmingWhitespace()) else { return "Invalid value \(value) for configuration \(name): Not a number" }
            if number < minimum { return "Invalid value \(value) for configuration \(name): Value must be at least \(minimum)" }
            if case .int = type, number > Int64(Int32.max) { return "Invalid value \(value) for configuration \(name): Not an int" }
        case .double:
            if Double(value.trimmingWhitespace()) == nil { return "Invalid value \(value) for configuration \(name): Not a number" }
        case .boolean:
            if !["true", "false"].contains(value.trimmingWhitespace().lowercased()) { return "Invalid value \(value) for configuration \(name): Expected value to be either true or false" }
        case .choice(let options):
            if !options.contains(value.trimmingWhitespace()) { return "Invalid value \(value) for configuration \(name): String must be one of: \(options.joined(separator: ", "))" }
        case .list(let options):
            let items = value.split(separator: ",").map { String($0).trimmingWhitespace() }
            if items.isEmpty || items.contains(where: { !options.contains($0) }) {
                return "Invalid value \(value) for configuration \(name): must be a list of \(options.joined(separator: ", "))"
            }
        case .kafkaVersion:
            let parts = value.trimmingWhitespace().split(separator: "-", maxSplits: 1)
            let numbers = parts.first?.split(separator: ".", omittingEmptySubsequences: false) ?? []
            let release = (2...3).contains(numbers.count) && numbers.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
            let iteration = parts.count == 1 || (parts[1].hasPrefix("IV") && parts[1].dropFirst(2).allSatisfy(\.isNumber) && parts[1].count > 2)
            if !release || !iteration { return "Invalid value \(value) for configuration \(name): not a Kafka version such as 2.8 or 3.0-IV1" }
        case .string:
            break
        }
        return nil
    }
}
