import KafkaProtocol
import NIOCore

/// Consumer settings, named and defaulted as in Kafka's Java consumer (4.x).
public struct ConsumerConfig: Sendable {
    public enum IsolationLevel: Int8, Sendable {
        case readUncommitted = 0
        case readCommitted = 1
    }

    /// `auto.offset.reset`: where to start without a committed offset, or after falling out
    /// of the log. `.none` reports the problem to the caller instead.
    public enum OffsetReset: Sendable, Equatable {
        case earliest, latest, none
    }

    public var groupId: String?
    /// `group.instance.id`: a static member (KIP-345).
    public var groupInstanceId: String?
    public var isolationLevel: IsolationLevel = .readUncommitted
    public var autoOffsetReset: OffsetReset = .latest
    /// `fetch.max.wait.ms`, `fetch.min.bytes`, `fetch.max.bytes`, `max.partition.fetch.bytes`.
    public var fetchMaxWait: TimeAmount = .milliseconds(500)
    public var fetchMinBytes: Int32 = 1
    public var fetchMaxBytes: Int32 = 52_428_800
    public var maxPartitionFetchBytes: Int32 = 1_048_576
    /// `enable.auto.commit` and `auto.commit.interval.ms` (for group members).
    public var enableAutoCommit = true
    public var autoCommitInterval: TimeAmount = .seconds(5)
    /// `session.timeout.ms`, `heartbeat.interval.ms`, `max.poll.interval.ms` (the rebalance timeout).
    public var sessionTimeout: TimeAmount = .seconds(45)
    public var heartbeatInterval: TimeAmount = .seconds(3)
    public var maxPollInterval: TimeAmount = .minutes(5)
    /// `partition.assignment.strategy`, in order of preference.
    public var assignors: [PartitionAssignorName] = [.range, .cooperativeSticky]
    /// `check.crcs`: verify each fetched batch's CRC32C.
    public var checkCRCs = true

    public init(groupId: String? = nil) {
        self.groupId = groupId
    }

    /// Applies Kafka consumer properties. Unknown keys and bad values are errors naming the key.
    public mutating func apply(_ properties: [String: String]) throws(KafkaClientError) {
        for property in ClientProperty.each(properties) {
            let (key, raw, value) = (property.key, property.raw, property.value)
            switch key {
            case "group.id": groupId = value.isEmpty ? nil : value
            case "group.instance.id": groupInstanceId = value.isEmpty ? nil : value
            case "isolation.level":
                switch value {
                case "read_committed": isolationLevel = .readCommitted
                case "read_uncommitted": isolationLevel = .readUncommitted
                default: throw .invalidArgument("isolation.level: '\(raw)' is not read_committed or read_uncommitted")
                }
            case "auto.offset.reset":
                switch value {
                case "earliest": autoOffsetReset = .earliest
                case "latest": autoOffsetReset = .latest
                case "none": autoOffsetReset = .none
                default: throw .invalidArgument("auto.offset.reset: '\(raw)' is not earliest, latest or none")
                }
            case "fetch.max.wait.ms": fetchMaxWait = try property.milliseconds()
            case "fetch.min.bytes": fetchMinBytes = Int32(clamping: try property.nonNegativeInteger())
            case "fetch.max.bytes": fetchMaxBytes = Int32(clamping: try property.nonNegativeInteger())
            case "max.partition.fetch.bytes": maxPartitionFetchBytes = Int32(clamping: try property.nonNegativeInteger())
            case "enable.auto.commit": enableAutoCommit = try property.flag()
            case "auto.commit.interval.ms": autoCommitInterval = try property.milliseconds()
            case "session.timeout.ms": sessionTimeout = try property.milliseconds()
            case "heartbeat.interval.ms": heartbeatInterval = try property.milliseconds()
            case "max.poll.interval.ms": maxPollInterval = try property.milliseconds()
            case "check.crcs": checkCRCs = try property.flag()
            case "partition.assignment.strategy":
                var names: [PartitionAssignorName] = []
                for part in value.split(separator: ",") {
                    let name = String(part).trimmingWhitespace()
                    guard let assignor = PartitionAssignorName(configValue: name) else {
                        throw .invalidArgument("partition.assignment.strategy: '\(name)' is not range or cooperative-sticky")
                    }
                    names.append(assignor)
                }
                guard !names.isEmpty else { throw .invalidArgument("partition.assignment.strategy: empty") }
                assignors = names
            case "client.id", "bootstrap.servers", "key.deserializer", "value.deserializer", "max.poll.records", "receive.buffer.bytes",
                 "send.buffer.bytes", "metadata.max.age.ms", "reconnect.backoff.ms", "reconnect.backoff.max.ms", "retry.backoff.ms",
                 "request.timeout.ms", "default.api.timeout.ms", "connections.max.idle.ms", "client.rack", "exclude.internal.topics",
                 "allow.auto.create.topics", "security.protocol", "interceptor.classes", "metrics.recording.level", "client.dns.lookup":
                continue
            default:
                throw .invalidArgument("\(key): unknown consumer setting")
            }
        }
    }
}

/// The assignors this client implements, by their protocol names.
public enum PartitionAssignorName: String, Sendable {
    case range = "range"
    case cooperativeSticky = "cooperative-sticky"

    /// Accepts the protocol name or the Java class name users put in configs.
    public init?(configValue: String) {
        switch configValue {
        case "range", "org.apache.kafka.clients.consumer.RangeAssignor": self = .range
        case "cooperative-sticky", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": self = .cooperativeSticky
        default: return nil
        }
    }
}
