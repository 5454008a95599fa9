import KafkaProtocol
import LogStore
import NIOConcurrencyHelpers

/// The topics of one broker and their partition logs, persisted in the data directory.
///
/// Layout: partition logs in `<data>/<topic>-<partition>/` (as Kafka lays them out), topic
/// descriptions in `<data>/meta/topics/<topic>.properties` (see `TopicMetadata`), dynamic
/// broker settings in `<data>/meta/broker-dynamic.properties`.
public final class TopicRegistry: @unchecked Sendable {
    public struct Topic: Sendable {
        public var metadata: TopicMetadata
        public var partitions: [PartitionLog]
    }

    private let lock = NIOLock()
    private var topics: [String: Topic] = [:]
    /// Topics whose partitions are being made outside the lock, with how many: they count
    /// against the partition limit, and their names are taken.
    private var pending: [String: Int32] = [:]
    private var dynamicBrokerConfigs: [String: String]
    public let config: BrokerConfig
    /// Damaged local files the start rebuilt (one line each), for the broker to log.
    public private(set) var repairs: [String] = []
    private let topicsDirectory: String

    public init(config: BrokerConfig, cleanShutdown: Bool, nowMs: Int64) throws {
        self.config = config
        let meta = config.dataDirectory + "/meta"
        topicsDirectory = meta + "/topics"
        try FileSystem.makeDirectories([config.dataDirectory, meta, topicsDirectory])
        dynamicBrokerConfigs = FileSystem.readText(meta + "/broker-dynamic.properties").map(PropertiesFile.parse) ?? [:]
        for file in FileSystem.list(topicsDirectory) where file.hasSuffix(".properties") {
            let name = String(file.dropLast(11))
            guard let text = FileSystem.readText(topicsDirectory + "/" + file),
                  let metadata = TopicMetadata(name: name, properties: PropertiesFile.parse(text)) else {
                throw KafkaError(.kafkaStorageError, "unreadable topic description \(topicsDirectory)/\(file)")
            }
            let logConfig = resolvedLogConfig(overrides: metadata.configs)
            var partitions: [PartitionLog] = []
            for index in 0..<metadata.partitionCount {
                partitions.append(try PartitionLog(directory: partitionDirectory(name, index), topic: name, partition: index,
                                                   config: logConfig, cleanShutdown: cleanShutdown, nowMs: nowMs))
            }
            topics[name] = Topic(metadata: metadata, partitions: partitions)
            repairs += partitions.flatMap(\.repairs)
        }
    }

    /// `NIOLock.withLock` rethrows untyped errors; this keeps `KafkaError` typed.
    private func locked<T>(_ body: () throws(KafkaError) -> T) throws(KafkaError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func partitionDirectory(_ topic: String, _ partition: Int32) -> String {
        "\(config.dataDirectory)/\(topic)-\(partition)"
    }

    // MARK: lookups

    public func topic(named name: String) -> Topic? {
        lock.withLock { topics[name] }
    }

    public func topic(id: KafkaUUID) -> Topic? {
        lock.withLock { topics.values.first { $0.metadata.id == id } }
    }

    public func allTopics() -> [Topic] {
        lock.withLock { topics.values.sorted { $0.metadata.name < $1.metadata.name } }
    }

    public func partition(_ topic: String, _ index: Int32) -> PartitionLog? {
        lock.withLock {
            guard let partitions = topics[topic]?.partitions, index >= 0, Int(index) < partitions.count else { return nil }
            return partitions[Int(index)]
        }
    }

    // MARK: configuration

    /// The broker-level value of a topic config: dynamic, then static, then none.
    public func brokerValue(forTopicConfig name: String) -> (value: String, source: ConfigSource)? {
        if let synonym = TopicConfigDefinition.byName[name]?.brokerSynonym, let value = lock.withLock({ dynamicBrokerConfigs[synonym] }) {
            return (value, .dynamicDefaultBrokerConfig)
        }
        if let value = config.brokerValue(forTopicConfig: name) { return (value, .staticBrokerConfig) }
        return nil
    }

    /// The effective value of a broker property: dynamic, static, default.
    public func brokerProperty(_ key: String) -> (value: String, source: ConfigSource)? {
        if let value = lock.withLock({ dynamicBrokerConfigs[key] }) { return (value, .dynamicDefaultBrokerConfig) }
        if let value = config.properties[key] { return (value, .staticBrokerConfig) }
        if let value = BrokerConfig.brokerDefaults[key] { return (value, .defaultConfig) }
        if let definition = TopicConfigDefinition.all.first(where: { $0.brokerSynonym == key }) { return (definition.defaultValue, .defaultConfig) }
        return nil
    }

    public func resolvedLogConfig(overrides: [String: String]) -> LogConfig {
        lock.withLock { resolvedLogConfigLocked(overrides: overrides) }
    }

    /// Checks topic config overrides; the error names the first bad key.
    public static func validate(topicConfigs: [String: String?]) -> KafkaError? {
        for (name, value) in topicConfigs {
            guard let definition = TopicConfigDefinition.byName[name] else {
                return KafkaError(.invalidConfig, "Unknown topic config name: \(name)")
            }
            if let value, let problem = definition.validate(value) { return KafkaError(.invalidConfig, problem) }
        }
        return nil
    }

    // MARK: changes

    public func defaultPartitionCount() -> Int32 {
        Int32(brokerProperty("num.partitions").flatMap { Int32($0.value) } ?? 1)
    }

    /// Creates a topic. `validateOnly` checks everything and changes nothing.
    ///
    /// The partition logs are made outside the lock that produce and fetch take (thousands of
    /// directories and files take a while); the name and the partitions are reserved under it.
    @discardableResult
    public func create(name: String, partitions requested: Int32, configs: [String: String], validateOnly: Bool, nowMs: Int64) throws(KafkaError) -> TopicMetadata {
        if let problem = TopicName.problem(with: name) { throw KafkaError(.invalidTopicException, problem) }
        let count = requested == -1 ? defaultPartitionCount() : requested
        guard count > 0 else { throw KafkaError(.invalidPartitions, "Number of partitions must be larger than 0.") }
        if let error = Self.validate(topicConfigs: configs) { throw error }
        let metadata = TopicMetadata(name: name, id: KafkaUUID.random(), partitionCount: count, configs: configs)
        let logConfig = try locked { () throws(KafkaError) -> LogConfig in
            if topics[name] != nil || pending[name] != nil { throw KafkaError(.topicAlreadyExists, "Topic '\(name)' already exists.") }
            let key = TopicName.collisionKey(name)
            if let clash = topics.keys.first(where: { TopicName.collisionKey($0) == key }) ?? pending.keys.first(where: { TopicName.collisionKey($0) == key }) {
                throw KafkaError(.invalidTopicException, "Topic '\(name)' collides with existing topic: \(clash)")
            }
            try checkPartitionLimitLocked(adding: count)
            if !validateOnly { pending[name] = count }
            return resolvedLogConfigLocked(overrides: configs)
        }
        if validateOnly { return metadata }
        let logs: [PartitionLog]
        do {
            logs = try makeLogs(name, 0..<count, config: logConfig, nowMs: nowMs)
            try persist(metadata)
        } catch {
            lock.withLock { pending[name] = nil }
            throw KafkaError(.kafkaStorageError, "\(error)")
        }
        lock.withLock {
            topics[name] = Topic(metadata: metadata, partitions: logs)
            pending[name] = nil
        }
        return metadata
    }

    /// New, empty partition logs; on failure the ones already made are removed.
    private func makeLogs(_ name: String, _ indexes: Range<Int32>, config: LogConfig, nowMs: Int64) throws -> [PartitionLog] {
        var logs: [PartitionLog] = []
        do {
            for index in indexes {
                let directory = partitionDirectory(name, index)
                FileSystem.removeTree(directory)
                logs.append(try PartitionLog(directory: directory, topic: name, partition: index, config: config, cleanShutdown: true, nowMs: nowMs))
            }
        } catch {
            for log in logs { log.delete() }
            throw error
        }
        return logs
    }

    /// Refuses partitions that would take the broker past `max.broker.partitions` (KIP-578's
    /// name): every partition holds open files and memory, so one request must not exhaust them.
    private func checkPartitionLimitLocked(adding: Int32) throws(KafkaError) {
        let limit = config.long("max.broker.partitions")
        let current = topics.values.reduce(0) { $0 + $1.partitions.count } + pending.values.reduce(0) { $0 + Int($1) }
        guard Int64(current) + Int64(adding) <= limit else {
            throw KafkaError(.invalidPartitions, "Adding \(adding) partitions to the \(current) this broker holds would exceed max.broker.partitions=\(limit)")
        }
    }

    /// Topic overrides, then dynamic and static broker settings, then Kafka's defaults. For
    /// callers already holding the lock (dynamic settings are read under it).
    private func resolvedLogConfigLocked(overrides: [String: String]) -> LogConfig {
        var values: [String: String] = [:]
        for definition in TopicConfigDefinition.all {
            if let value = overrides[definition.name] {
                values[definition.name] = value
            } else if let synonym = definition.brokerSynonym, let value = dynamicBrokerConfigs[synonym] {
                values[definition.name] = value
            } else if let value = config.brokerValue(forTopicConfig: definition.name) {
                values[definition.name] = value
            }
        }
        var logConfig = LogConfig(values)
        logConfig.decompressionLimit = Int(config.long("strait.decompression.max.bytes"))
        return logConfig
    }

    public func delete(name: String) throws(KafkaError) -> KafkaUUID {
        try locked { () throws(KafkaError) -> KafkaUUID in
            guard let topic = topics.removeValue(forKey: name) else {
                throw KafkaError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
            }
            FileSystem.remove(topicsDirectory + "/" + name + ".properties")
            for log in topic.partitions { log.delete() }
            return topic.metadata.id
        }
    }

    public func addPartitions(name: String, totalCount: Int32, validateOnly: Bool, nowMs: Int64) throws(KafkaError) {
        let (current, logConfig) = try locked { () throws(KafkaError) -> (Int32, LogConfig) in
            guard let topic = topics[name], pending[name] == nil else {
                throw KafkaError(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
            }
            let current = topic.metadata.partitionCount
            guard totalCount > current else {
                throw KafkaError(.invalidPartitions, "Topic currently has \(current) partitions, which is higher than the requested \(totalCount).")
            }
            try checkPartitionLimitLocked(adding: totalCount - current)
            if !validateOnly { pending[name] = totalCount - current }
            return (current, resolvedLogConfigLocked(overrides: topic.metadata.configs))
        }
        if validateOnly { return }
        var added: [PartitionLog] = []
        do {
            added = try makeLogs(name, current..<totalCount, config: logConfig, nowMs: nowMs)
            try locked { () throws(KafkaError) in
                defer { pending[name] = nil }
                guard var topic = topics[name] else { throw KafkaError(.unknownTopicOrPartition, "The topic '\(name)' was deleted meanwhile.") }
                topic.partitions += added
                topic.metadata.partitionCount = totalCount
                do {
                    try persist(topic.metadata)
                } catch {
                    throw KafkaError(.kafkaStorageError, "\(error)")
                }
                topics[name] = topic
            }
        } catch let error as KafkaError {
            lock.withLock { pending[name] = nil }
            for log in added { log.delete() }
            throw error
        } catch {
            lock.withLock { pending[name] = nil }
            throw KafkaError(.kafkaStorageError, "\(error)")
        }
    }

    /// Replaces a topic's config overrides and applies them to its logs.
    public func setConfigs(name: String, configs: [String: String], validateOnly: Bool) throws(KafkaError) {
        if let error = Self.validate(topicConfigs: configs) { throw error }
        try locked { () throws(KafkaError) in
            guard var topic = topics[name] else { throw KafkaError(.unknownTopicOrPartition, "The topic '\(name)' does not exist.") }
            if validateOnly { return }
            topic.metadata.configs = configs
            do {
                try persist(topic.metadata)
            } catch {
                throw KafkaError(.kafkaStorageError, "\(error)")
            }
            topics[name] = topic
            let logConfig = resolvedLogConfigLocked(overrides: configs)
            for log in topic.partitions { log.update(config: logConfig) }
        }
    }

    /// Replaces the dynamic broker settings and re-resolves every topic's log config.
    public func setDynamicBrokerConfigs(_ values: [String: String], validateOnly: Bool) throws(KafkaError) {
        for (key, value) in values {
            var probe = config
            probe.properties = [key: value]
            do {
                try probe.validate()
            } catch {
                throw KafkaError(.invalidConfig, error.description)
            }
        }
        if validateOnly { return }
        try locked { () throws(KafkaError) in
            do {
                try FileSystem.writeTextAtomically(PropertiesFile.render(values), to: config.dataDirectory + "/meta/broker-dynamic.properties")
            } catch {
                throw KafkaError(.kafkaStorageError, "\(error)")
            }
            dynamicBrokerConfigs = values
            for topic in topics.values {
                let logConfig = resolvedLogConfigLocked(overrides: topic.metadata.configs)
                for log in topic.partitions { log.update(config: logConfig) }
            }
        }
    }

    public var dynamicBrokerSettings: [String: String] { lock.withLock { dynamicBrokerConfigs } }

    private func persist(_ metadata: TopicMetadata) throws {
        try FileSystem.writeTextAtomically(PropertiesFile.render(metadata.properties), to: topicsDirectory + "/" + metadata.name + ".properties")
    }

    /// Flushes and closes every log (clean shutdown).
    public func closeAll() {
        for topic in lock.withLock({ Array(topics.values) }) {
            for log in topic.partitions { try? log.close() }
        }
    }
}
