import ArgumentParser
import StraitDaemon

/// `strait demo`: two embedded sites, a flow between them and a live view, with nothing to set
/// up.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run two embedded sites on this machine with a flow between them, and watch it."
    )

    @Option(name: .customLong("data-dir"), help: "Keep the sites' data here (default: a temporary directory, removed on exit).")
    var dataDir: String?

    func run() async throws {
        try await CommandFailure.oneLine { try await Demo.run(dataDirectory: dataDir) }
    }
}
