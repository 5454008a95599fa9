import KafkaProtocol

/// What the broker knows of a topic beyond its logs: its id (KIP-516; kept for the topic's
/// lifetime, new only when the topic is recreated), partition count and config overrides.
///
/// Stored as `meta/topics/<topic>.properties` in the data directory: `topic.id` (32 hex
/// digits), `partitions`, and one `config.<name>=<value>` line per override.
public struct TopicMetadata: Sendable, Equatable {
    public var name: String
    public var id: KafkaUUID
    public var partitionCount: Int32
    public var configs: [String: String]

    init(name: String, id: KafkaUUID, partitionCount: Int32, configs: [String: String]) {
        self.name = name
        self.id = id
        self.partitionCount = partitionCount
        self.configs = configs
    }

    init?(name: String, properties: [String: String]) {
        guard let idText = properties["topic.id"], idText.count == 32,
              let high = UInt64(idText.prefix(16), radix: 16), let low = UInt64(idText.suffix(16), radix: 16),
              let count = properties["partitions"].flatMap(Int32.init), count > 0 else { return nil }
        self.name = name
        id = KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
        partitionCount = count
        var configs: [String: String] = [:]
        for (key, value) in properties where key.hasPrefix("config.") {
            configs[String(key.dropFirst(7))] = value
        }
        self.configs = configs
    }

    var properties: [String: String] {
        var values = ["topic.id": Self.hex(id), "partitions": String(partitionCount)]
        for (key, value) in configs { values["config." + key] = value }
        return values
    }

    static func hex(_ id: KafkaUUID) -> String {
        func pad(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return pad(id.mostSignificantBits) + pad(id.leastSignificantBits)
    }
}
