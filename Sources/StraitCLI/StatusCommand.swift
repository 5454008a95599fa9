import ArgumentParser
import StraitDaemon

/// `strait status`: what a running daemon is doing, from its `/status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running daemon's sites, flows, lag and checkpoints."
    )

    @Option(help: "The daemon's HTTP address, HOST:PORT (default: the configuration file's http.listen, else 127.0.0.1:9464).")
    var http: String?

    @Option(help: "The daemon's configuration file (YAML), to find its HTTP address.")
    var config: String?

    @Flag(help: "Print the JSON document.") var json = false

    func run() async throws {
        let address = try CommandFailure.oneLine { () throws -> ListenAddress in
            if let http { return try ListenAddress(parsing: http) }
            if let config, let listener = try DaemonConfigFile.read(config).http {
                // A daemon listening on every address answers on loopback.
                return try ListenAddress(parsing: ListenAddress(host: listener.host, port: listener.port).local)
            }
            return DaemonConfigFile.defaultHTTP
        }
        let status = try await CommandFailure.oneLine { try await StatusClient.fetch(host: address.host, port: address.port) }
        print(json ? OffsetReport.json(status) : StatusTable.text(status))
    }
}
