import Broker
import Logging
import Mirror
import Yams

/// `strait run --config FILE.yaml`: sites, flows, the HTTP listener and logging in one YAML
/// file of a fixed shape (docs/configuration.md). Flows are read into the same MirrorMaker 2
/// settings an `mm2.properties` file gives, so both formats say the same things and are
/// checked by the same code; Kafka settings keep their dotted Kafka names as keys.
public enum DaemonConfigFile {
    /// The HTTP listener when the file names none: loopback only, as operators expect of an
    /// endpoint without authentication.
    public static let defaultHTTP = ListenAddress(host: "127.0.0.1", port: 9464)

    public static func read(_ path: String) throws(DaemonFailure) -> DaemonPlan {
        try parse(ConfigFileText.read(path), file: path)
    }

    static func parse(_ text: String, file: String) throws(DaemonFailure) -> DaemonPlan {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ConfigOrigin(file: file, line: 1, key: "sites").failure("the file is empty") }
            root = node
        } catch let failure as DaemonFailure {
            throw failure
        } catch let error as YamlError {
            throw yamlFailure(error, file: file)
        } catch {
            throw DaemonFailure("\(file): \(error)")
        }
        let top = ConfigNode(node: root, key: "", file: file)
        var sections: [String: ConfigNode] = [:]
        for (name, value) in try top.entries(allowed: ["sites", "flows", "http", "log"]) { sections[name] = value }
        guard let sitesNode = sections["sites"] else { throw ConfigOrigin(file: file, line: 1, key: "sites").failure("missing: declare at least one site") }

        var entries = MM2Entries()
        var sites: [EmbeddedSite] = []
        let siteEntries = try sitesNode.entries()
        guard !siteEntries.isEmpty else { throw sitesNode.failure("declare at least one site") }
        for (name, node) in siteEntries {
            guard !name.isEmpty, !name.contains("->"), !name.contains(" "), !name.contains(".") else {
                throw node.failure("'\(name)' is not a valid site name (no spaces, dots or '->')")
            }
            if let site = try site(name, node, into: &entries) { sites.append(site) }
        }
        entries.add("clusters", siteEntries.map(\.name).joined(separator: ", "), sitesNode)
        let siteNames = Set(siteEntries.map(\.name))
        if let flows = sections["flows"] {
            var seen: Set<String> = []
            for flow in try flows.items() {
                let name = try self.flow(flow, sites: siteNames, into: &entries)
                guard seen.insert(name).inserted else { throw flow.failure("the flow \(name) is declared twice") }
            }
        }
        let mirror: MirrorConfiguration
        do {
            mirror = try MirrorConfiguration(entries: entries.list)
        } catch {
            // A flow setting read through MM2's fallbacks is reported under its bare name: the
            // flow entry that set it is the one to blame.
            let origin = entries.origins[error.key]
                ?? entries.origins.keys.sorted().first { $0.hasSuffix("." + error.key) }.flatMap { entries.origins[$0] }
            throw (origin ?? ConfigOrigin(file: file, line: error.line, key: error.key)).failure(error.reason)
        }
        let http = try httpListener(sections["http"], file: file)
        let level = try logLevel(sections["log"])
        return try DaemonPlan(sites: sites, mirror: mirror, http: http, logLevel: level)
    }

    /// MirrorMaker 2 keys with the YAML node each came from.
    private struct MM2Entries {
        var list: [(key: String, value: String, line: Int)] = []
        var origins: [String: ConfigOrigin] = [:]

        mutating func add(_ key: String, _ value: String, _ node: ConfigNode) {
            list.append((key, value, node.origin.line ?? 0))
            origins[key] = node.origin
        }
    }

    private static func site(_ name: String, _ node: ConfigNode, into entries: inout MM2Entries) throws(DaemonFailure) -> EmbeddedSite? {
        let embeddedKeys: Set<String> = ["listen", "advertised.listen", "data.dir", "broker"]
        let settings = try node.entries(allowed: embeddedKeys.union(["bootstrap.servers", "client"]))
        var values: [String: ConfigNode] = [:]
        for (key, value) in settings { values[key] = value }
        for (key, value) in try values["client"]?.entries() ?? [] {
            entries.add("\(name).\(key)", try value.text(), value)
        }
        if let bootstrap = values["bootstrap.servers"] {
            if let embedded = settings.first(where: { embeddedKeys.contains($0.name) }) {
                throw embedded.value.failure("an external site (bootstrap.servers) has no \(embedded.name): that belongs to an embedded site")
            }
            entries.add("\(name).bootstrap.servers", try bootstrap.names(), bootstrap)
            return nil
        }
        guard let listenNode = values["listen"] else {
            throw node.failure("set bootstrap.servers for an external cluster, or listen and data.dir for an embedded site")
        }
        guard let dataNode = values["data.dir"] else { throw node.failure("an embedded site needs data.dir") }
        let listen = try address(listenNode)
        let advertised = try values["advertised.listen"].map { node throws(DaemonFailure) in try address(node) }
        let dataDirectory = try dataNode.text()
        guard !dataDirectory.isEmpty else { throw dataNode.failure("empty") }
        var brokerSettings: [ServerProperties.Setting] = []
        var propertyNodes: [String: ConfigNode] = [:]
        for (key, value) in try values["broker"]?.entries() ?? [] {
            if ["listeners", "advertised.listeners", "log.dirs", "log.dir", "node.id", "broker.id"].contains(key) {
                throw value.failure("set by the site's listen, advertised.listen and data.dir here")
            }
            if ServerProperties.isSecurityKey(key) || key.hasPrefix("listener.name.") {
                throw value.failure("an embedded site serves PLAINTEXT on its listen address; run `strait broker --config server.properties` for a broker with TLS, SASL or ACLs")
            }
            brokerSettings.append(.init(key: key, value: try value.text(), origin: ""))
            propertyNodes[key] = value
        }
        let base = BrokerConfig(listenHost: listen.host, listenPort: listen.port, advertisedHost: advertised?.host,
                                advertisedPort: advertised?.port, dataDirectory: dataDirectory)
        let config: BrokerConfig
        let warnings: [String]
        do {
            (config, warnings) = try ServerProperties.apply(brokerSettings, to: base)
        } catch {
            throw (propertyNodes[error.key] ?? listenNode).failure(error.problem)
        }
        entries.add("\(name).bootstrap.servers", advertised?.local ?? listen.local, listenNode)
        entries.add("\(name).embedded.data.dir", dataDirectory, dataNode)
        return EmbeddedSite(name: name, broker: config, origins: [
            .listener: listenNode.origin, .dataDirectory: dataNode.origin, .settings: values["broker"]?.origin ?? node.origin,
        ], warnings: warnings.map { "sites.\(name).broker.\($0)" })
    }

    /// One flow: `source` and `target` name sites; every other key is a MirrorMaker 2 flow
    /// setting under its own name (`topics`, `emit.checkpoints.interval.seconds`, ...).
    private static func flow(_ node: ConfigNode, sites: Set<String>, into entries: inout MM2Entries) throws(DaemonFailure) -> String {
        let settings = try node.entries()
        var source: String?
        var target: String?
        for (key, value) in settings where key == "source" || key == "target" {
            let site = try value.text()
            guard sites.contains(site) else { throw value.failure("'\(site)' is not a site declared under sites") }
            if key == "source" { source = site } else { target = site }
        }
        guard let source else { throw node.failure("a flow needs source: a site name") }
        guard let target else { throw node.failure("a flow needs target: a site name") }
        guard source != target else { throw node.failure("source and target are both \(source)") }
        let name = "\(source)->\(target)"
        entries.add("\(name).enabled", "true", node)
        for (key, value) in settings where key != "source" && key != "target" {
            entries.add("\(name).\(key)", try value.names(), value)
        }
        return name
    }

    private static func address(_ node: ConfigNode) throws(DaemonFailure) -> ListenAddress {
        do {
            return try ListenAddress(parsing: node.text())
        } catch {
            throw node.failure(error.description)
        }
    }

    private static func httpListener(_ node: ConfigNode?, file: String) throws(DaemonFailure) -> HTTPListener {
        for (_, value) in try node?.entries(allowed: ["listen"]) ?? [] {
            let address = try address(value)
            return HTTPListener(host: address.host, port: address.port, origin: value.origin)
        }
        return HTTPListener(host: defaultHTTP.host, port: defaultHTTP.port, origin: ConfigOrigin(file: file, line: nil, key: "http.listen (default \(defaultHTTP))"))
    }

    private static func logLevel(_ node: ConfigNode?) throws(DaemonFailure) -> Logger.Level {
        for (_, value) in try node?.entries(allowed: ["level"]) ?? [] {
            guard let level = Logger.Level(rawValue: try value.text()) else {
                throw value.failure("'\(try value.text())' is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return level
        }
        return .info
    }

    /// libyaml's message, on one line at its position.
    private static func yamlFailure(_ error: YamlError, file: String) -> DaemonFailure {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let around = context.map { " (\($0.text))" } ?? ""
            return DaemonFailure("\(file):\(mark.line): not valid YAML: \(problem)\(around)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return DaemonFailure("\(file):\(context.mark.line): \(duplicates.sorted().joined(separator: ", ")): set twice")
        default:
            return DaemonFailure("\(file): not valid YAML: \(error)".split(separator: "\n").first.map(String.init) ?? "\(file): not valid YAML")
        }
    }
}
