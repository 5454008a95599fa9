import ArgumentParser
import StraitDaemon

@main
struct Strait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strait",
        abstract: "Cross-cluster replication agent for Kafka, with an embedded Kafka-compatible broker.",
        discussion: "Subcommands arrive with their issues: `strait broker`, `strait run`, `strait perf`, `strait failover`.",
        version: StraitVersion.current
    )
}
