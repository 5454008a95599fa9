import KafkaProtocol
import LogStore

/// Effective configuration values with their source and synonyms, as DescribeConfigs and
/// CreateTopics (v5+) report them.
struct ConfigDescriber {
    struct Entry {
        var name: String
        var value: String?
        var source: ConfigSource
        var readOnly: Bool
        var type: Int8
        /// (name, value, source), most specific first, the entry's own source included.
        var synonyms: [(String, String?, ConfigSource)]
    }

    static let topicResource: Int8 = 2
    static let brokerResource: Int8 = 4

    let registry: TopicRegistry

    /// Kafka's ConfigType codes (DescribeConfigs v3+).
    static func typeCode(_ type: TopicConfigDefinition.ValueType) -> Int8 {
        switch type {
        case .boolean: return 1
        case .string, .choice, .kafkaVersion: return 2
        case .int: return 3
        case .long: return 5
        case .double: return 6
        case .list: return 7
        }
    }

    func topicEntries(_ topic: TopicMetadata) -> [Entry] {
        TopicConfigDefinition.all.map { definition in
            var synonyms: [(String, String?, ConfigSource)] = []
            if let value = topic.configs[definition.name] { synonyms.append((definition.name, value, .dynamicTopicConfig)) }
            if let synonym = definition.brokerSynonym, let broker = registry.brokerValue(forTopicConfig: definition.name) {
                synonyms.append((synonym, broker.value, broker.source))
            }
            synonyms.append((definition.brokerSynonym ?? definition.name, definition.defaultValue, .defaultConfig))
            let (_, value, source) = synonyms[0]
            return Entry(name: definition.name, value: value, source: source, readOnly: false, type: Self.typeCode(definition.type), synonyms: synonyms)
        }
    }

    /// Broker settings: the log defaults (topic-config synonyms) and the broker's own settings,
    /// plus the identity settings that are read-only.
    func brokerEntries() -> [Entry] {
        var entries: [Entry] = []
        var names = Set(BrokerConfig.brokerDefaults.keys)
        for definition in TopicConfigDefinition.all { if let synonym = definition.brokerSynonym { names.insert(synonym) } }
        for name in names.sorted() {
            guard let (value, source) = registry.brokerProperty(name) else { continue }
            var synonyms: [(String, String?, ConfigSource)] = [(name, value, source)]
            if source != .defaultConfig, let fallback = BrokerConfig.brokerDefaults[name] ?? TopicConfigDefinition.all.first(where: { $0.brokerSynonym == name })?.defaultValue {
                synonyms.append((name, fallback, .defaultConfig))
            }
            let type = TopicConfigDefinition.all.first(where: { $0.brokerSynonym == name }).map { Self.typeCode($0.type) }
                ?? (["auto.create.topics.enable", "delete.topic.enable"].contains(name) ? 1 : 5)
            entries.append(Entry(name: name, value: value, source: source, readOnly: false, type: type, synonyms: synonyms))
        }
        let config = registry.config
        let identity: [(String, String)] = [
            ("node.id", String(config.nodeId)), ("broker.id", String(config.nodeId)),
            ("log.dirs", config.dataDirectory),
            ("listeners", config.listeners.map { "\($0.name)://\($0.host):\($0.port)" }.joined(separator: ",")),
            ("advertised.listeners", config.listeners.map { "\($0.name)://\($0.advertisedHost):\($0.advertisedPort)" }.joined(separator: ",")),
        ]
        for (name, value) in identity {
            entries.append(Entry(name: name, value: value, source: .staticBrokerConfig, readOnly: true, type: name.hasSuffix("id") ? 3 : 2, synonyms: [(name, value, .staticBrokerConfig)]))
        }
        return entries.sorted { $0.name < $1.name }
    }
}
