import Logging
import Mirror
import ServiceLifecycle

/// Runs the flows of an `mm2.properties` file in the foreground until SIGTERM or SIGINT, then
/// stops them gracefully: partitions handed back with their positions stored.
public enum MirrorRunner {
    public static func run(_ configuration: MirrorConfiguration) async throws {
        StraitLogging.bootstrap()
        let logger = Logger(label: "strait.mirror")
        for key in configuration.ignoredKeys {
            logger.notice("\(key): accepted for MirrorMaker 2 compatibility, no effect in Strait")
        }
        if configuration.flows.isEmpty {
            logger.warning("no flow is enabled: set A->B.enabled = true for at least one pair of clusters")
        }
        for flow in configuration.flows {
            logger.info("flow \(flow.name): topics \(flow.topics.include.joined(separator: ", ")) excluding \(flow.topics.exclude.joined(separator: ", "))")
        }
        let agent = MirrorAgent(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: MirrorService(agent: agent))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The agent as a service of the lifecycle: graceful shutdown stops the flows.
struct MirrorService: Service {
    let agent: MirrorAgent

    func run() async throws {
        await withGracefulShutdownHandler {
            await agent.run()
        } onGracefulShutdown: {
            agent.stop()
        }
    }
}
