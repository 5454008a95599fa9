import KafkaProtocol
import KafkaSecurity
import LogStore

/// A Kafka `server.properties` (and `--set` overrides) applied to a broker's configuration, with
/// Kafka's names: identity and listeners, log settings, security settings.
///
/// A key Kafka defines that Strait does not act on earns one warning; a key Kafka does not define,
/// a bad value, or a feature asked for that Strait does not have stops the broker with one line
/// naming the key. Values are never quoted in messages about secret-bearing keys.
public enum ServerProperties {
    public struct Setting: Sendable {
        public var key: String
        public var value: String
        /// Where it was given: `FILE:LINE`, or `--set`.
        public var origin: String

        public init(key: String, value: String, origin: String) {
            self.key = key
            self.value = value
            self.origin = origin
        }
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var origin: String
        public var key: String
        public var problem: String

        public var description: String { origin.isEmpty ? "\(key): \(problem)" : "\(origin): \(key): \(problem)" }
    }

    /// The settings of a `server.properties` file, each with its line.
    public static func read(file path: String) throws(Problem) -> [Setting] {
        guard let text = FileSystem.readText(path) else {
            throw Problem(origin: path, key: "--config", problem: "cannot read the file")
        }
        return JavaProperties(parsing: text).entries.map { Setting(key: $0.key, value: $0.value, origin: "\(path):\($0.line)") }
    }

    /// Security keys read per listener, with or without `listener.name.<listener>.`.
    static let securityKeys: Set<String> = TLSSettings.keys.union([
        "sasl.enabled.mechanisms", "sasl.jaas.config", "super.users", "allow.everyone.if.no.acl.found", "authorizer.class.name",
    ])

    /// `config` with `settings` applied in order (a later one wins), and the warnings to print.
    public static func apply(_ settings: [Setting], to config: BrokerConfig) throws(Problem) -> (BrokerConfig, warnings: [String]) {
        var config = config
        var warnings: [String] = []
        var last: [String: Setting] = [:]
        var order: [String: Int] = [:]
        for (index, setting) in settings.enumerated() {
            last[setting.key] = setting
            order[setting.key] = index
        }
        // KIP-297 and KIP-887 references, so secrets need not sit in the file.
        let providers: ConfigProviders
        do {
            providers = try ConfigProviders(declarations: last.mapValues(\.value))
        } catch {
            throw Problem(origin: last[error.key]?.origin ?? last["config.providers"]?.origin ?? "", key: error.key, problem: error.problem)
        }
        for (key, setting) in last where !key.hasPrefix("config.providers") {
            do {
                last[key]?.value = try providers.resolve(setting.value, key: key)
            } catch {
                throw Problem(origin: setting.origin, key: key, problem: error.problem)
            }
        }
        var protocolMap: [String: SecurityProtocol] = [:]
        if let map = last["listener.security.protocol.map"] {
            protocolMap = try blaming(map) { () throws(BrokerConfigError) in try BrokerListener.protocolMap(map.value) }
        }
        // A KRaft controller listener is not for clients, and a single-node Strait has no
        // controller quorum: it is left out, with a warning.
        let controllers = Set((last["controller.listener.names"]?.value ?? "").split(separator: ",").map { String($0).trimmingWhitespace().uppercased() })
        if let listeners = last["listeners"] {
            let parsed = try blaming(listeners) { () throws(BrokerConfigError) in
                try BrokerListener.parse(listeners.value, key: "listeners", protocolMap: protocolMap.merging(controllers.map { ($0, .plaintext) }) { old, _ in old })
            }
            for entry in parsed where controllers.contains(entry.name) {
                warnings.append("\(listeners.origin): listeners: \(entry.name) is a KRaft controller listener; Strait needs none and does not open it")
            }
            let clientListeners = parsed.filter { !controllers.contains($0.name) }
            guard !clientListeners.isEmpty else { throw Problem(origin: listeners.origin, key: "listeners", problem: "no listener for clients") }
            config.listeners = clientListeners.map {
                // Kafka advertises the machine's name for a listener bound to every interface.
                let advertised = $0.host.isEmpty || $0.host == "0.0.0.0" || $0.host == "::" ? LocalHost.name() : $0.host
                return BrokerListener(name: $0.name, securityProtocol: $0.protocol, host: $0.host, port: $0.port, advertisedHost: advertised)
            }
        }
        if let advertised = last["advertised.listeners"] {
            let parsed = try blaming(advertised) { () throws(BrokerConfigError) in try BrokerListener.parse(advertised.value, key: "advertised.listeners", protocolMap: protocolMap) }
            for entry in parsed where !controllers.contains(entry.name) {
                guard let index = config.listeners.firstIndex(where: { $0.name == entry.name }) else {
                    throw Problem(origin: advertised.origin, key: advertised.key, problem: "listener \(entry.name) is not in listeners")
                }
                config.listeners[index].advertisedHost = entry.host.isEmpty ? config.listeners[index].host : entry.host
                config.listeners[index].advertisedPort = entry.port
            }
        }
        for (key, setting) in last.sorted(by: { order[$0.key]! < order[$1.key]! }) {
            switch key {
            case "listeners", "advertised.listeners", "listener.security.protocol.map", "config.providers":
                continue
            case _ where key.hasPrefix("config.providers."):
                continue
            case "log.dirs", "log.dir":
                let directories = setting.value.split(separator: ",")
                guard directories.count == 1 else {
                    throw Problem(origin: setting.origin, key: key, problem: "Strait keeps one data directory; \(directories.count) are listed")
                }
                if key == "log.dirs" || last["log.dirs"] == nil { config.dataDirectory = String(directories[0]).trimmingWhitespace() }
            case "node.id", "broker.id":
                guard let id = Int32(setting.value), id >= 0 else {
                    throw Problem(origin: setting.origin, key: key, problem: "expected a non-negative integer, got '\(setting.value)'")
                }
                if key == "node.id" || last["node.id"] == nil { config.nodeId = id }
            default:
                if let problem = refusal(key: key, value: setting.value) {
                    throw Problem(origin: setting.origin, key: key, problem: problem)
                }
                if isSecurityKey(key) {
                    config.securitySettings[key] = setting.value
                } else if BrokerConfig.knownProperties.contains(key) {
                    config.properties[key] = setting.value
                } else if KafkaBrokerSettingNames.all.contains(listenerScoped(key) ?? key) {
                    warnings.append((setting.origin.isEmpty ? "" : "\(setting.origin): ") + "\(key): a Kafka setting Strait does not act on; ignored")
                } else {
                    throw Problem(origin: setting.origin, key: key, problem: "not a Kafka broker setting")
                }
            }
        }
        for listener in config.listeners {
            do {
                _ = try ListenerSecurity(listener: listener, config: config)
            } catch {
                let scoped = "listener.name.\(listener.name.lowercased()).\(error.key)"
                let setting = last[scoped] ?? last[error.key]
                throw Problem(origin: setting?.origin ?? "", key: setting?.key ?? error.key, problem: error.problem)
            }
        }
        do {
            try config.validate()
        } catch {
            let key: String
            switch error {
            case .unknownProperty(let name): key = name
            case .invalidValue(let name, _): key = name
            }
            throw Problem(origin: last[key]?.origin ?? "", key: key, problem: error.description)
        }
        return (config, warnings)
    }

    /// Settings that ask for something Strait does not do yet: refused rather than ignored,
    /// because ignoring them would weaken security silently.
    static func refusal(key: String, value: String) -> String? {
        let name = listenerScoped(key) ?? key
        switch name {
        case "authorizer.class.name" where !value.isEmpty && !Authorizer.classNames.contains(value.trimmingWhitespace()):
            return "'\(value)' is not supported: use \(Authorizer.classNames.sorted().joined(separator: " or "))"
        case "allow.everyone.if.no.acl.found" where !["true", "false"].contains(value.trimmingWhitespace()):
            return "expected true or false, got '\(value)'"
        case "principal.builder.class":
            return "custom principal builders are not supported"
        case "ssl.principal.mapping.rules", "sasl.kerberos.principal.to.local.rules":
            return value.trimmingWhitespace() == "DEFAULT" ? nil : "principal mapping rules are not supported yet; only DEFAULT"
        case "connections.max.reauth.ms":
            return Int64(value) == 0 ? nil : "re-authentication is not supported yet; leave it 0"
        case "client.quota.callback.class":
            return "quotas are not supported yet"
        default:
            if name.hasSuffix("sasl.jaas.config"), name.lowercased().hasPrefix("oauthbearer.") {
                return "OAUTHBEARER is not supported yet"
            }
            return nil
        }
    }

    /// The key without `listener.name.<listener>.`, when it has that prefix.
    static func listenerScoped(_ key: String) -> String? {
        guard key.hasPrefix("listener.name.") else { return nil }
        let rest = key.dropFirst("listener.name.".count)
        guard let dot = rest.firstIndex(of: "."), dot != rest.startIndex else { return nil }
        return String(rest[rest.index(after: dot)...])
    }

    public static func isSecurityKey(_ key: String) -> Bool {
        let name = listenerScoped(key) ?? key
        if securityKeys.contains(name) { return true }
        // `<mechanism>.sasl.jaas.config`, as Kafka scopes JAAS entries per mechanism.
        if name.hasSuffix(".sasl.jaas.config") { return true }
        return false
    }

    private static func blaming<T>(_ setting: Setting, _ body: () throws(BrokerConfigError) -> T) throws(Problem) -> T {
        do {
            return try body()
        } catch {
            throw Problem(origin: setting.origin, key: setting.key, problem: error.description.hasPrefix("\(setting.key): ")
                ? String(error.description.dropFirst(setting.key.count + 2)) : error.description)
        }
    }
}
