import ArgumentParser
import Foundation
import Mirror
import StraitDaemon

/// The options every offset command takes: which file, which group, which flow.
struct FlowGroupOptions: ParsableArguments {
    @OptionGroup var file: ConfigFileOptions
    @Option(help: "The consumer group.") var group: String
    @Option(help: "The flow's source cluster alias.") var source: String
    @Option(help: "The flow's target cluster alias.") var target: String
    @Flag(help: "Print JSON.") var json = false

    /// Runs `body` with a translator for the flow, closed afterwards; failures become one line.
    func withTranslator(_ body: (GroupOffsetTranslator) async throws -> Void) async throws {
        let translator = try CommandFailure.oneLine {
            try GroupOffsetTranslator(configuration: try file.plan().mirror, source: source, target: target)
        }
        do {
            try await body(translator)
        } catch {
            await translator.close()
            throw error as? CommandFailure ?? CommandFailure(message: "group \(group), \(source)->\(target): \(error)")
        }
        await translator.close()
    }

    func print(_ translation: GroupOffsetTranslator.Translation) {
        Swift.print(json ? OffsetReport.json(translation) : OffsetReport.text(translation))
    }
}

/// `strait offsets translate`: a group's committed source offsets, as target offsets.
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "offsets", abstract: "Consumer offsets across a replication flow.",
                                                    subcommands: [Translate.self])

    struct Translate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "translate", abstract: "Print a group's offsets committed on the source, translated to the target (the source must be up).")

        @OptionGroup var options: FlowGroupOptions

        func run() async throws {
            try await options.withTranslator { translator in
                let translation = try await translator.translateCommitted(group: options.group)
                guard !translation.partitions.isEmpty else {
                    throw CommandFailure(message: "group \(options.group) has no committed offsets on \(options.source) for topics \(translator.flow.name) replicates")
                }
                options.print(translation)
            }
        }
    }
}

/// `strait failover`: moves a group to the target from what the target holds alone.
struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Commit a group's last checkpointed offsets, translated, to the target, and print the recovery point. Reads only the target.")

    @OptionGroup var options: FlowGroupOptions
    @Flag(name: .customLong("dry-run"), help: "Print what would be committed, commit nothing.") var dryRun = false

    func run() async throws {
        try await options.withTranslator { translator in
            var translation = try await translator.translateCheckpointed(group: options.group)
            guard !translation.partitions.isEmpty else {
                throw CommandFailure(message: "group \(options.group) has no checkpoints on \(options.target) from \(options.source)")
            }
            if !dryRun { translation = try await translator.commit(translation) }
            options.print(translation)
        }
    }
}

/// `strait topology`: who replicates into whom, from the heartbeats.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "topology",
                                                    abstract: "Show which clusters replicate into which, with hop counts, from the replicated heartbeats.")

    @OptionGroup var file: ConfigFileOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = try CommandFailure.oneLine { try file.plan().mirror }
        let topology = await ReplicationTopology.read(configuration)
        print(json ? OffsetReport.json(topology) : OffsetReport.text(topology))
    }
}
