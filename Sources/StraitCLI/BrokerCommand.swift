import ArgumentParser
import Broker
import StraitDaemon

/// `strait broker`: one Kafka-compatible broker on this machine, configured by flags, by a
/// Kafka `server.properties`, or both (flags win).
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a single-node Kafka-compatible broker."
    )

    @Option(help: "A Kafka server.properties file (listeners, log.dirs, ssl.*, sasl.*, log settings).")
    var config: String?

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:9092; with --config, replaces the first listener's address).")
    var listen: String?

    @Option(help: "Address clients are told to connect to, HOST:PORT (default: the listen address).")
    var advertise: String?

    @Option(name: .customLong("data-dir"), help: "Directory holding the logs and metadata (or log.dirs in --config).")
    var dataDir: String?

    @Option(name: .customLong("node-id"), help: "This broker's node id (default 1, or node.id in --config).")
    var nodeId: Int32?

    @Option(name: .customLong("cluster-id"), help: "Cluster id (generated on first start when omitted).")
    var clusterId: String?

    @Option(name: .customLong("set"), help: "A broker setting with Kafka's name, key=value (repeatable; overrides --config).")
    var settings: [String] = []

    func run() async throws {
        var settings: [ServerProperties.Setting] = []
        do {
            if let config { settings = try ServerProperties.read(file: config) }
        } catch {
            throw CommandFailure(message: error.description)
        }
        for setting in self.settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw ValidationError("--set expects key=value, got '\(setting)'")
            }
            settings.append(.init(key: String(setting[..<equals]), value: String(setting[setting.index(after: equals)...]), origin: "--set"))
        }
        var base = BrokerConfig(dataDirectory: "")
        var (config, warnings): (BrokerConfig, [String])
        do {
            (config, warnings) = try ServerProperties.apply(settings, to: base)
        } catch {
            throw CommandFailure(message: error.description)
        }
        if let listen {
            let (host, port) = try Self.address(listen, option: "--listen")
            config.listeners[0].host = host
            config.listeners[0].port = port
            config.listeners[0].advertisedHost = host
            config.listeners[0].advertisedPort = port
        }
        if let advertise {
            let (host, port) = try Self.address(advertise, option: "--advertise")
            config.listeners[0].advertisedHost = host
            config.listeners[0].advertisedPort = port
        }
        if let dataDir { config.dataDirectory = dataDir }
        if let nodeId { config.nodeId = nodeId }
        config.clusterId = clusterId ?? config.clusterId
        guard !config.dataDirectory.isEmpty else {
            throw ValidationError("set the data directory with --data-dir or log.dirs in --config")
        }
        base = config
        do {
            try base.validate()
        } catch {
            throw ValidationError(error.description)
        }
        try await BrokerRunner.run(base, warnings: warnings)
    }

    static func address(_ text: String, option: String) throws -> (String, Int) {
        do {
            let address = try ListenAddress(parsing: text)
            return (address.host, address.port)
        } catch {
            throw ValidationError("\(option) expects HOST:PORT, got '\(text)'")
        }
    }
}
