import KafkaProtocol
import KafkaSecurity
import LogStore

/// The settings of one embedded broker: identity, listeners, data directory, and broker
/// properties with Kafka's names (`--set key=value`).
public struct BrokerConfig: Sendable {
    public var nodeId: Int32
    public var clusterId: String?
    /// Named listeners, in the order given; the first is the one tools and the daemon report.
    public var listeners: [BrokerListener]
    public var dataDirectory: String
    /// Broker properties as given (static configuration).
    public var properties: [String: String]
    /// Security settings with Kafka's names (`ssl.*`, `sasl.*`, `listener.name.*`,
    /// `super.users`, ...), kept apart from `properties` because they may hold secrets that
    /// DescribeConfigs must not return.
    public var securitySettings: [String: String] = [:]
    /// The site this broker serves, as metrics label it.
    public var siteName = "broker"

    public var listenHost: String { listeners[0].host }
    public var listenPort: Int { listeners[0].port }
    public var advertisedHost: String { listeners[0].advertisedHost }
    public var advertisedPort: Int { listeners[0].advertisedPort }

    /// The listener a connection came through, by name (the first when unknown).
    public func listener(named name: String) -> BrokerListener {
        listeners.first(where: { $0.name == name }) ?? listeners[0]
    }

    /// One listener's security settings: `listener.name.<listener>.<key>` over `<key>`, as Kafka
    /// resolves them, with the prefix removed.
    public func securitySettings(for listener: BrokerListener) -> [String: String] {
        let prefix = "listener.name.\(listener.name.lowercased())."
        var result = securitySettings.filter { !$0.key.hasPrefix("listener.name.") }
        for (key, value) in securitySettings where key.hasPrefix(prefix) {
            result[String(key.dropFirst(prefix.count))] = value
        }
        return result
    }

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
        // Limits (docs/broker.md, "Limits and faults"); Kafka's names, and Strait's tighter
        // defaults where Kafka's are unbounded.
        "fetch.max.bytes": "57671680",
        "max.connections": "10000",
        "max.connections.per.ip": "1000",
        "max.connections.per.ip.overrides": "",
        "connections.max.idle.ms": "600000",
        "queued.max.requests": "500",
        "queued.max.request.bytes": "536870912",
        "max.broker.partitions": "10000",
        "strait.decompression.max.bytes": "268435456",
    ]

    public init(nodeId: Int32 = 1, clusterId: String? = nil, listenHost: String = "127.0.0.1", listenPort: Int = 9092,
                advertisedHost: String? = nil, advertisedPort: Int? = nil, dataDirectory: String, properties: [String: String] = [:]) {
        self.init(nodeId: nodeId, clusterId: clusterId,
                  listeners: [BrokerListener(name: "PLAINTEXT", securityProtocol: .plaintext, host: listenHost, port: listenPort,
                                             advertisedHost: advertisedHost, advertisedPort: advertisedPort)],
                  dataDirectory: dataDirectory, properties: properties)
    }

    public init(nodeId: Int32 = 1, clusterId: String? = nil, listeners: [BrokerListener], dataDirectory: String,
                properties: [String: String] = [:], securitySettings: [String: String] = [:]) {
        precondition(!listeners.isEmpty, "a broker needs a listener")
        self.nodeId = nodeId
        self.clusterId = clusterId
        self.listeners = listeners
        self.dataDirectory = dataDirectory
        self.properties = properties
        self.securitySettings = securitySettings
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
        if let problem = limitProblem() { throw problem }
        for listener in listeners where !(0...65535).contains(listener.port) {
            throw .invalidValue("--listen", "port \(listener.port) out of range")
        }
    }

    /// Limits that only make sense against each other or above a floor.
    private func limitProblem() -> BrokerConfigError? {
        let floor = Int64(CompressionCodec.defaultDecompressionLimit)
        if long("strait.decompression.max.bytes") < floor {
            return .invalidValue("strait.decompression.max.bytes", "strait.decompression.max.bytes must be at least \(floor): a batch Kafka accepts must decompress here too")
        }
        if long("queued.max.request.bytes") < long("socket.request.max.bytes") {
            return .invalidValue("queued.max.request.bytes", "queued.max.request.bytes (\(long("queued.max.request.bytes"))) must be at least socket.request.max.bytes (\(long("socket.request.max.bytes"))), or no request of the largest size could be read")
        }
        for key in ["max.connections", "max.connections.per.ip", "queued.max.requests", "fetch.max.bytes", "connections.max.idle.ms"] where long(key) < 1 {
            return .invalidValue(key, "Invalid value \(long(key)) for configuration \(key): Value must be at least 1")
        }
        do {
            _ = try ConnectionLimits.overrides(properties["max.connections.per.ip.overrides"] ?? "")
        } catch {
            return error
        }
        return nil
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
