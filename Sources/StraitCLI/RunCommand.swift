import ArgumentParser
import StraitDaemon

/// `strait run`: the embedded sites and replication flows of a configuration file, YAML
/// (`--config`) or MirrorMaker 2's `mm2.properties` (`--mm2`).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run embedded sites and replication flows from a configuration file."
    )

    @OptionGroup var file: ConfigFileOptions

    @Option(help: "With --mm2: serve /metrics and /status on HOST:PORT (a YAML file says http.listen).")
    var http: String?

    func run() async throws {
        let plan = try CommandFailure.oneLine { try file.plan(http: http) }
        try await CommandFailure.oneLine { try await Daemon.run(plan) }
    }
}
