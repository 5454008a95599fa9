import Broker
import Logging
import ServiceLifecycle

/// Runs one embedded broker in the foreground until SIGTERM or SIGINT, then shuts it down
/// gracefully (connections closed, logs flushed and closed, clean-shutdown marker written).
public enum BrokerRunner {
    public static func run(_ config: BrokerConfig) async throws {
        StraitLogging.bootstrap()
        let logger = Logger(label: "strait")
        let broker = BrokerService(config: config, logger: Logger(label: "strait.broker"))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: broker)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
