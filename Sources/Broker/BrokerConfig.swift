import LogStore

/// The settings of one embedded broker: identity, listeners, data directory, and broker
/// properties with Kafka's names (`--set key=value`).
public struct BrokerConfig: Sendable {
    public var nodeId: Int32
    public var clusterId: String?
    public var listenHost: String
    public var listenPort: Int
    public var advertisedHost: String
    public var advertisedPort: Int
    public var dataDirectory: String
    /// Broker properties as given (static configuration).
    public var properties: [String: String]
    /// The site this broker serves, as metrics label it.
    public var siteName = "broker"

    /// Broker properties Strait reads besides the topic-config synonyms, with Kafka's defaults.
    public static let brokerDefaults: [String: String] = [
        "num.partitions": "1",
        "default.replication.factor": "1",
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "socket.request.max.bytes": "104857600",
        "log.retention.check.interval.ms": "300000",
        "log.flush.scheduler.interval.ms": "9223372036854775807",
        "offsets.retention.minutes": "10080",
        "log.retention.hours": "168",
        "offsets.topic.num.partitions": "50",
        "transaction.state.log.num.partitions": "50",
        "transaction.max.timeout.ms": "900000",
        "transactional.id.expiration.ms": "604800000",
        "producer.id.expiration.ms": "86400000",
        "offset.metadata.max.bytes": "4096",
        "group.min.session.timeout.ms": "6000",
        "group.max.session.timeout.ms": "1800000",
        "group.initial.rebalance.delay.ms": "3000",
        "log.roll.hours": "168",
    ]

    public init(nodeId: Int32 = 1, clusterId: String? = nil, listenHost: String = "127.0.0.1", listenPort: Int = 9092,
                advertisedHost: String? = nil, advertisedPort: Int? = nil, dataDirectory: String, properties: [String: String] = [:]) {
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.advertisedHost = advertisedHost ?? listenHost
        self.advertisedPort = advertisedPort ?? listenPort
        self.dataDirectory = dataDirectory
        self.properties = properties
    }

    /// Every broker property name Strait understands.
    public static var knownProperties: Set<String> {
        var names = Set(brokerDefaults.keys)
        for definition in TopicConfigDefinition.all {
            if let synonym = definition.brokerSynonym { names.insert(synonym) }
        }
        names.insert("log.retention.minutes")
        return names
    }

    /// Checks the properties: unknown names and invalid values are errors naming the key.
    public func validate() throws(BrokerConfigError) {
        for (key, value) in properties {
            guard Self.knownProperties.contains(key) else { throw .unknownProperty(key) }
            if let definition = TopicConfigDefinition.all.first(where: { $0.brokerSynonym == key }), let problem = definition.validate(value) {
                throw .invalidValue(key, problem)
            }
            if let fallback = Self.brokerDefaults[key], Int64(fallback) != nil {
                guard let parsed = Int64(value), parsed >= 0 || (key == "default.replication.factor" && parsed == -1) else {
                    throw .invalidValue(key, "Invalid value \(value) for configuration \(key): Not a non-negative number")
                }
            }
            if ["auto.create.topics.enable", "delete.topic.enable"].contains(key), !["true", "false"].contains(value) {
                throw .invalidValue(key, "Invalid value \(value) for configuration \(key): Expected value to be either true or false")
            }
        }
        guard (1...65535).contains(listenPort) || listenPort == 0 else { throw .invalidValue("--listen", "port \(listenPort) out of range") }
    }

    public func long(_ key: String) -> Int64 {
        Int64(properties[key] ?? Self.brokerDefaults[key] ?? "") ?? Int64(Self.brokerDefaults[key] ?? "0") ?? 0
    }

    public func bool(_ key: String) -> Bool {
        (properties[key] ?? Self.brokerDefaults[key]) == "true"
    }

    /// The broker-level value for a topic config (its synonym), honouring Kafka's hour and
    /// minute variants of retention and roll, or nil when the broker does not set it.
    public func brokerValue(forTopicConfig name: String) -> String? {
        guard let synonym = TopicConfigDefinition.byName[name]?.brokerSynonym else { return nil }
        if let value = properties[synonym] { return value }
        switch name {
        case "retention.ms":
            if let minutes = properties["log.retention.minutes"].flatMap(Int64.init) { return String(minutes * 60_000) }
            if let hours = properties["log.retention.hours"].flatMap(Int64.init) { return String(hours * 3_600_000) }
        case "segment.ms":
            if let hours = properties["log.roll.hours"].flatMap(Int64.init) { return String(hours * 3_600_000) }
        default:
            break
        }
        return nil
    }
}

public enum BrokerConfigError: Error, Equatable, CustomStringConvertible {
    case unknownProperty(String)
    case invalidValue(String, String)

    public var description: String {
        switch self {
        case .unknownProperty(let key): return "unknown broker setting '\(key)'"
        case .invalidValue(_, let message): return message
        }
    }
}
