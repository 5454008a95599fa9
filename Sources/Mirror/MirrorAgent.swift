import Logging

/// Runs every enabled flow of a MirrorMaker 2 configuration, each on its own task, until
/// `stop`; flows stop by handing their partitions back (positions stored) and leaving their
/// work groups.
public final class MirrorAgent: Sendable {
    public let configuration: MirrorConfiguration
    private let flows: [ReplicationFlow]

    public init(configuration: MirrorConfiguration, logger: Logger) {
        self.configuration = configuration
        flows = configuration.flows.map { flow in
            ReplicationFlow(flow: flow, source: configuration.clusters[flow.source]!, target: configuration.clusters[flow.target]!, logger: logger)
        }
    }

    /// Returns once every flow has stopped.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for flow in flows { group.addTask { await flow.run() } }
        }
    }

    public func stop() {
        for flow in flows { flow.stop() }
    }

    public var status: [FlowStatus] { flows.map(\.status) }
}
