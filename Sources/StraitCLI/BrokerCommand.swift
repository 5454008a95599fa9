import ArgumentParser
import Broker
import StraitDaemon

/// `strait broker`: one Kafka-compatible broker on this machine.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a single-node Kafka-compatible broker."
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen: String = "127.0.0.1:9092"

    @Option(help: "Address clients are told to connect to, HOST:PORT (default: the listen address).")
    var advertise: String?

    @Option(name: .customLong("data-dir"), help: "Directory holding the logs and metadata.")
    var dataDir: String

    @Option(name: .customLong("node-id"), help: "This broker's node id.")
    var nodeId: Int32 = 1

    @Option(name: .customLong("cluster-id"), help: "Cluster id (generated on first start when omitted).")
    var clusterId: String?

    @Option(name: .customLong("set"), help: "A broker setting with Kafka's name, key=value (repeatable).")
    var settings: [String] = []

    func run() async throws {
        let (host, port) = try Self.address(listen, option: "--listen")
        let advertised = try advertise.map { try Self.address($0, option: "--advertise") }
        var properties: [String: String] = [:]
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw ValidationError("--set expects key=value, got '\(setting)'")
            }
            properties[String(setting[..<equals])] = String(setting[setting.index(after: equals)...])
        }
        let config = BrokerConfig(nodeId: nodeId, clusterId: clusterId, listenHost: host, listenPort: port,
                                  advertisedHost: advertised?.0, advertisedPort: advertised?.1, dataDirectory: dataDir, properties: properties)
        do {
            try config.validate()
        } catch {
            throw ValidationError(error.description)
        }
        try await BrokerRunner.run(config)
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
