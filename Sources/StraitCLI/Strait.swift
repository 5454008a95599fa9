import ArgumentParser
import StraitDaemon

@main
struct Strait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strait",
        abstract: "Cross-cluster replication agent for Kafka, with an embedded Kafka-compatible broker.",
        version: StraitVersion.current,
        subcommands: [DemoCommand.self, RunCommand.self, CheckCommand.self, StatusCommand.self, BrokerCommand.self, OffsetsCommand.self, FailoverCommand.self, TopologyCommand.self, PerfCommand.self,
                      ProduceCommand.self, ConsumeCommand.self, UserCommand.self]
    )
}
