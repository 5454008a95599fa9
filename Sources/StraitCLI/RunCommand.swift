import ArgumentParser
import Mirror
import StraitDaemon

/// `strait run --mm2 FILE`: the embedded sites and replication flows of a MirrorMaker 2
/// configuration.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run embedded sites and replication flows from a MirrorMaker 2 mm2.properties file."
    )

    @Option(help: "A MirrorMaker 2 configuration (mm2.properties).")
    var mm2: String

    @Option(help: "Serve /metrics (Prometheus) and /status (JSON) on HOST:PORT.")
    var http: String?

    func run() async throws {
        let configuration = try CommandFailure.oneLine { try MirrorConfigurationFile.read(mm2) }
        let address = try http.map { try BrokerCommand.address($0, option: "--http") }
        let listener = address.map { HTTPListener(host: $0.0, port: $0.1, origin: ConfigOrigin(file: "command line", line: nil, key: "--http")) }
        try await CommandFailure.oneLine { try await Daemon.run(DaemonPlan(mm2: configuration, file: mm2, http: listener)) }
    }
}
