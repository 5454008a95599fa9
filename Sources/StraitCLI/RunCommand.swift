import ArgumentParser
import Mirror
import StraitDaemon

/// `strait run --mm2 FILE`: the replication flows of a MirrorMaker 2 configuration.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run replication flows from a MirrorMaker 2 mm2.properties file."
    )

    @Option(help: "A MirrorMaker 2 configuration (mm2.properties).")
    var mm2: String

    @Option(help: "Serve /metrics (Prometheus) and /status (JSON) on HOST:PORT.")
    var http: String?

    func run() async throws {
        let configuration = try CommandFailure.oneLine { try MirrorConfigurationFile.read(mm2) }
        let address = try http.map { try BrokerCommand.address($0, option: "--http") }
        try await MirrorRunner.run(configuration, http: address.map { (host: $0.0, port: $0.1) })
    }
}
