import KafkaClient
import KafkaProtocol
import KafkaSecurity
import NIOCore

/// A MirrorMaker 2 `mm2.properties` file, read as MM2 reads it: `clusters`, each cluster's
/// connection and client settings, and the enabled `A->B` flows with their settings.
public struct MirrorConfiguration: Sendable {
    public var clusters: [String: ClusterSettings]
    public var flows: [FlowSettings]
    /// Keys accepted because MM2 accepts them, that change nothing in Strait (logged once).
    public var ignoredKeys: [String]

    public static let defaultPolicyClass = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"
    public static let identityPolicyClass = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
    public static let templatePolicyClass = "io.strait.mirror.TemplateReplicationPolicy"

    static let defaultConfigExclusions = [#"follower\.replication\.throttled\.replicas"#, #"leader\.replication\.throttled\.replicas"#,
                                          #"message\.timestamp\.difference\.max\.ms"#, #"message\.timestamp\.type"#,
                                          #"unclean\.leader\.election\.enable"#, #"min\.insync\.replicas"#]

    /// The line each key was read from, for messages about a setting that is valid on its own
    /// but fails at run time (a port in use, a directory that cannot be created).
    public var lines: [String: Int]

    public init(parsing text: String) throws(MirrorConfigError) {
        try self.init(entries: JavaProperties(parsing: text).entries.map { ($0.key, $0.value, $0.line) })
    }

    /// Settings with MM2's keys from any file format (later entries win), each with its line.
    public init(entries: [(key: String, value: String, line: Int)]) throws(MirrorConfigError) {
        var values: [String: (value: String, line: Int)] = [:]
        for entry in entries { values[entry.key] = (entry.value, entry.line) }
        lines = values.mapValues(\.line)
        values = try Self.resolvingProviders(values)
        guard let clusterList = values["clusters"] else { throw MirrorConfigError(key: "clusters", "missing: list the cluster aliases") }
        let aliases = NameFilter.list(clusterList.value)
        guard !aliases.isEmpty else { throw MirrorConfigError(key: "clusters", "empty", line: clusterList.line) }
        guard Set(aliases).count == aliases.count else { throw MirrorConfigError(key: "clusters", "an alias is listed twice", line: clusterList.line) }
        for alias in aliases where alias.contains("->") || alias.contains(" ") {
            throw MirrorConfigError(key: "clusters", "'\(alias)' is not a valid alias", line: clusterList.line)
        }

        var top: [String: String] = [:]
        var perCluster: [String: [String: String]] = [:]
        var perFlow: [String: [String: String]] = [:]
        var ignored: Set<String> = []
        let byLength = aliases.sorted { $0.count > $1.count }
        for (key, entry) in values.sorted(by: { $0.value.line < $1.value.line }) where key != "clusters" {
            func fail(_ reason: String) -> MirrorConfigError { MirrorConfigError(key: key, reason, line: entry.line) }
            if let arrow = key.range(of: "->") {
                let source = String(key[..<arrow.lowerBound])
                let rest = key[arrow.upperBound...]
                guard aliases.contains(source), let target = byLength.first(where: { rest.hasPrefix($0 + ".") }) else {
                    throw fail("names a flow between clusters not listed in 'clusters'")
                }
                guard source != target else { throw fail("a flow needs two different clusters") }
                let setting = String(rest.dropFirst(target.count + 1))
                let clientSetting = Self.clientRole(setting)?.1 ?? setting
                if ClientSecurity.keys.contains(clientSetting) {
                    throw fail("security settings belong to a cluster (\(source).\(clientSetting) or \(target).\(clientSetting)), not to a flow")
                }
                if let problem = Self.checkConnectorKey(setting, entry.value, ignored: &ignored) { throw fail(problem) }
                perFlow["\(source)->\(target)", default: [:]][setting] = entry.value
            } else if let alias = byLength.first(where: { key.hasPrefix($0 + ".") }) {
                let setting = String(key.dropFirst(alias.count + 1))
                if let problem = Self.checkClusterKey(setting, entry.value, ignored: &ignored) { throw fail(problem) }
                perCluster[alias, default: [:]][setting] = entry.value
            } else {
                if let problem = Self.checkConnectorKey(key, entry.value, ignored: &ignored) { throw fail(problem) }
                top[key] = entry.value
            }
        }

        var clusters: [String: ClusterSettings] = [:]
        for alias in aliases {
            clusters[alias] = try Self.cluster(alias, perCluster[alias] ?? [:], top: top)
        }
        var flows: [FlowSettings] = []
        for source in aliases {
            for target in aliases where target != source {
                let own = perFlow["\(source)->\(target)"] ?? [:]
                let lookup = top.merging(own) { $1 }
                guard Self.flag(lookup["enabled"]) ?? false else { continue }
                for alias in [source, target] where clusters[alias]?.client.bootstrapServers.isEmpty ?? true {
                    throw MirrorConfigError(key: "\(alias).bootstrap.servers", "missing for the enabled flow \(source)->\(target)")
                }
                flows.append(try Self.flow(source: source, target: target, lookup, own: own, aliases: aliases, clusters: clusters))
            }
        }
        self.clusters = clusters
        self.flows = flows
        ignoredKeys = ignored.sorted()
    }

    // MARK: - Checking keys

    /// Replaces `${file:...}` and `${env:...}` references (KIP-297, KIP-887) in every value.
    private static func resolvingProviders(_ values: [String: (value: String, line: Int)]) throws(MirrorConfigError) -> [String: (value: String, line: Int)] {
        let providers: ConfigProviders
        do {
            providers = try ConfigProviders(declarations: values.mapValues(\.value))
        } catch {
            throw MirrorConfigError(key: error.key, error.problem, line: values[error.key]?.line ?? values["config.providers"]?.line)
        }
        var resolved = values
        for (key, entry) in values where !key.hasPrefix("config.providers") {
            do {
                resolved[key]?.value = try providers.resolve(entry.value, key: key)
            } catch {
                throw MirrorConfigError(key: key, error.problem, line: entry.line)
            }
        }
        return resolved
    }

    private static func checkConnectorKey(_ key: String, _ value: String, ignored: inout Set<String>) -> String? {
        if ClientSecurity.keys.contains(key) || key == "config.providers" || key.hasPrefix("config.providers.") { return nil }
        if let kind = MM2Key.connector[key] {
            if kind == .ignored || MM2Key.withoutEffect.contains(key) { ignored.insert(key) }
            return MM2Key.problem(value, for: kind)
        }
        if MM2Key.ignoredPrefixes.contains(where: { key.hasPrefix($0) }) {
            ignored.insert(key)
            return nil
        }
        if let (role, setting) = clientRole(key) {
            return clientProblem(role: role, setting: setting, value: value)
        }
        return "unknown MirrorMaker 2 setting"
    }

    private static func checkClusterKey(_ key: String, _ value: String, ignored: inout Set<String>) -> String? {
        if MM2Key.clusterClient.contains(key) || ClientSecurity.keys.contains(key) { return nil }
        if let (role, setting) = clientRole(key) { return clientProblem(role: role, setting: setting, value: value) }
        if let kind = MM2Key.connector[key], kind == .ignored || key == "offset.storage.replication.factor" {
            if kind == .ignored { ignored.insert(key) }
            return MM2Key.problem(value, for: kind)
        }
        if MM2Key.ignoredPrefixes.contains(where: { key.hasPrefix($0) }) {
            ignored.insert(key)
            return nil
        }
        return "unknown cluster setting"
    }

    private enum ClientRole { case consumer, producer, admin }

    private static func clientRole(_ key: String) -> (ClientRole, String)? {
        for (prefix, role) in [("consumer.", ClientRole.consumer), ("source.consumer.", .consumer), ("producer.", .producer),
                               ("target.producer.", .producer), ("admin.", .admin), ("source.admin.", .admin), ("target.admin.", .admin)]
            where key.hasPrefix(prefix) {
            return (role, String(key.dropFirst(prefix.count)))
        }
        return nil
    }

    private static func clientProblem(role: ClientRole, setting: String, value: String) -> String? {
        if ClientSecurity.keys.contains(setting) { return nil }
        do throws(KafkaClientError) {
            switch role {
            case .consumer:
                var config = ConsumerConfig()
                try config.apply([setting: value])
            case .producer:
                var config = ProducerConfig()
                try config.apply([setting: value])
            case .admin:
                guard MM2Key.clusterClient.contains(setting) || ["default.api.timeout.ms", "retries", "connections.max.idle.ms"].contains(setting) else {
                    return "unknown admin setting"
                }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Building

    private static func cluster(_ alias: String, _ settings: [String: String], top: [String: String]) throws(MirrorConfigError) -> ClusterSettings {
        var client = KafkaClientConfig(bootstrapServers: [], clientId: settings["client.id"] ?? "strait-\(alias)")
        if let bootstrap = settings["bootstrap.servers"] {
            do {
                client.bootstrapServers = try BrokerAddress.list(bootstrap)
            } catch {
                throw MirrorConfigError(key: "\(alias).bootstrap.servers", "\(error)")
            }
            guard !client.bootstrapServers.isEmpty else { throw MirrorConfigError(key: "\(alias).bootstrap.servers", "empty") }
        }
        func milliseconds(_ key: String) throws(MirrorConfigError) -> TimeAmount? {
            guard let value = settings[key] else { return nil }
            guard let number = Int64(value.trimmingWhitespace()), number >= 0 else { throw MirrorConfigError(key: "\(alias).\(key)", "'\(value)' is not a number of milliseconds") }
            return .milliseconds(number)
        }
        client.requestTimeout = try milliseconds("request.timeout.ms") ?? client.requestTimeout
        client.retryBackoff = try milliseconds("retry.backoff.ms") ?? client.retryBackoff
        client.reconnectBackoff = try milliseconds("reconnect.backoff.ms") ?? client.reconnectBackoff
        client.reconnectBackoffMax = try milliseconds("reconnect.backoff.max.ms") ?? client.reconnectBackoffMax
        client.metadataMaxAge = try milliseconds("metadata.max.age.ms") ?? client.metadataMaxAge
        client.connectTimeout = try milliseconds("socket.connection.setup.timeout.ms") ?? client.connectTimeout
        var consumer: [String: String] = [:]
        var producer: [String: String] = [:]
        var admin: [String: String] = [:]
        for source in [top, settings] {
            for (key, value) in source {
                switch clientRole(key) {
                case (_, let setting)? where ClientSecurity.keys.contains(setting): continue
                case (.consumer, let setting)?: consumer[setting] = value
                case (.producer, let setting)?: producer[setting] = value
                case (.admin, let setting)?: admin[setting] = value
                case nil: continue
                }
            }
        }
        client.security = try security(alias, settings, top: top)
        let embedded = settings["embedded.data.dir"]?.trimmingWhitespace()
        if let embedded {
            guard !embedded.isEmpty else { throw MirrorConfigError(key: "\(alias).embedded.data.dir", "empty") }
            guard client.bootstrapServers.count == 1 else {
                throw MirrorConfigError(key: "\(alias).bootstrap.servers", "an embedded cluster listens on exactly one address")
            }
        }
        return ClusterSettings(alias: alias, client: client, consumer: consumer, producer: producer, admin: admin, embeddedDataDirectory: embedded)
    }

    /// A cluster's TLS and SASL settings: top-level keys, then the cluster's, then its client
    /// roles'. The mirror opens one set of connections per cluster, so roles must agree.
    private static func security(_ alias: String, _ settings: [String: String], top: [String: String]) throws(MirrorConfigError) -> ClientSecurity {
        var merged = top.filter { ClientSecurity.keys.contains($0.key) }
        for (key, value) in settings where ClientSecurity.keys.contains(key) { merged[key] = value }
        var fromRole: [String: String] = [:]
        for source in [top, settings] {
            // In key order, so the same file always blames the same key.
            for (key, value) in source.sorted(by: { $0.key < $1.key }) {
                guard let (_, setting) = clientRole(key), ClientSecurity.keys.contains(setting) else { continue }
                if let other = fromRole[setting], other != value {
                    throw MirrorConfigError(key: "\(alias).\(key)", "the consumer, producer and admin of one cluster share connections, so their \(setting) must agree")
                }
                fromRole[setting] = value
            }
        }
        merged.merge(fromRole) { $1 }
        do {
            return try ClientSecurity(merged)
        } catch {
            throw MirrorConfigError(key: "\(alias).\(error.key)", error.problem)
        }
    }

    private static func flag(_ value: String?) -> Bool? {
        value.flatMap { Bool($0.trimmingWhitespace().lowercased()) }
    }

    private static func flow(source: String, target: String, _ lookup: [String: String], own: [String: String], aliases: [String],
                             clusters: [String: ClusterSettings]) throws(MirrorConfigError) -> FlowSettings {
        func number(_ key: String, _ fallback: Int64) -> Int64 { lookup[key].flatMap { Int64($0.trimmingWhitespace()) } ?? fallback }
        func seconds(_ key: String, _ fallback: Int64) -> TimeAmount { .seconds(number(key, fallback)) }
        func bool(_ key: String, _ fallback: Bool) -> Bool { flag(lookup[key]) ?? fallback }
        func list(_ keys: [String], _ fallback: [String]) -> [String] {
            for key in keys { if let value = lookup[key] { return NameFilter.list(value) } }
            return fallback
        }
        let separator = lookup["replication.policy.separator"]?.trimmingWhitespace() ?? "."
        let separatorInInternal = bool("replication.policy.internal.topic.separator.enabled", true)
        let policy: any ReplicationPolicy
        switch lookup["replication.policy.class"]?.trimmingWhitespace() ?? defaultPolicyClass {
        case defaultPolicyClass, "DefaultReplicationPolicy":
            guard !separator.isEmpty else { throw MirrorConfigError(key: "replication.policy.separator", "must not be empty") }
            policy = DefaultReplicationPolicy(separator: separator, separatorInInternalTopics: separatorInInternal)
        case identityPolicyClass, "IdentityReplicationPolicy":
            policy = IdentityReplicationPolicy(separator: separator, separatorInInternalTopics: separatorInInternal)
        case templatePolicyClass, "TemplateReplicationPolicy":
            policy = try TemplateReplicationPolicy(template: lookup["replication.policy.template"] ?? "{source}.{topic}", aliases: aliases,
                                                   internalSeparator: separatorInInternal ? separator : ".")
        case let other:
            throw MirrorConfigError(key: "replication.policy.class", "'\(other)' is not supported: use \(defaultPolicyClass), \(identityPolicyClass) or \(templatePolicyClass)")
        }
        // Top-level client settings are already in the clusters' (which win over them, as in
        // MM2); the flow's own override both.
        var consumer = clusters[source]?.consumer ?? [:]
        var producer = clusters[target]?.producer ?? [:]
        for (key, value) in own {
            switch clientRole(key) {
            case (_, let setting)? where ClientSecurity.keys.contains(setting): continue
            case (.consumer, let setting)?: consumer[setting] = value
            case (.producer, let setting)?: producer[setting] = value
            default: continue
            }
        }
        return FlowSettings(
            source: source, target: target,
            topics: try NameFilter(include: list(["topics"], [".*"]), exclude: list(["topics.exclude", "topics.blacklist"], NameFilter.defaultTopicExclusions),
                                   includeKey: "topics", excludeKey: "topics.exclude"),
            groups: try NameFilter(include: list(["groups"], [".*"]), exclude: list(["groups.exclude", "groups.blacklist"], NameFilter.defaultGroupExclusions),
                                   includeKey: "groups", excludeKey: "groups.exclude"),
            policy: policy,
            configPropertiesExclude: try NameFilter(include: list(["config.properties.exclude", "config.properties.blacklist"], defaultConfigExclusions),
                                                    exclude: [], includeKey: "config.properties.exclude", excludeKey: "config.properties.exclude"),
            syncTopicConfigs: bool("sync.topic.configs.enabled", true), syncTopicConfigsInterval: seconds("sync.topic.configs.interval.seconds", 10),
            syncTopicAcls: bool("sync.topic.acls.enabled", true), syncTopicAclsInterval: seconds("sync.topic.acls.interval.seconds", 600),
            refreshTopics: bool("refresh.topics.enabled", true), refreshTopicsInterval: seconds("refresh.topics.interval.seconds", 10),
            refreshGroups: bool("refresh.groups.enabled", true), refreshGroupsInterval: seconds("refresh.groups.interval.seconds", 10),
            emitHeartbeats: bool("emit.heartbeats.enabled", true), emitHeartbeatsInterval: seconds("emit.heartbeats.interval.seconds", 1),
            emitCheckpoints: bool("emit.checkpoints.enabled", true), emitCheckpointsInterval: seconds("emit.checkpoints.interval.seconds", 5),
            syncGroupOffsets: bool("sync.group.offsets.enabled", false), syncGroupOffsetsInterval: seconds("sync.group.offsets.interval.seconds", 60),
            emitOffsetSyncs: bool("emit.offset-syncs.enabled", true),
            offsetSyncsOnTarget: lookup["offset-syncs.topic.location"]?.trimmingWhitespace() == "target",
            replicationFactor: Int16(clamping: number("replication.factor", -1)),
            offsetStorageReplicationFactor: Int16(clamping: number("offset.storage.replication.factor", -1)),
            offsetSyncsReplicationFactor: Int16(clamping: number("offset-syncs.topic.replication.factor", -1)),
            checkpointsReplicationFactor: Int16(clamping: number("checkpoints.topic.replication.factor", -1)),
            heartbeatsReplicationFactor: Int16(clamping: number("heartbeats.topic.replication.factor", -1)),
            pollTimeout: .milliseconds(number("consumer.poll.timeout.ms", 1000)),
            offsetFlushInterval: .milliseconds(number("offset.flush.interval.ms", 1000)),
            dataLossPolicy: FlowSettings.DataLossPolicy(rawValue: lookup["data.loss.policy"]?.trimmingWhitespace() ?? "stop") ?? .stop,
            workGroupSessionTimeout: .milliseconds(number("session.timeout.ms", 10_000)),
            workGroupHeartbeatInterval: .milliseconds(number("heartbeat.interval.ms", 3_000)),
            workGroupRebalanceTimeout: .milliseconds(number("rebalance.timeout.ms", 60_000)),
            consumer: consumer, producer: producer)
    }
}
