import Broker
import Logging
import ServiceLifecycle

/// Runs one embedded broker in the foreground until SIGTERM or SIGINT, then shuts it down
/// gracefully (connections closed, logs flushed and closed, clean-shutdown marker written).
public enum BrokerRunner {
    /// `warnings` are printed once logging is set up (settings read but not acted on).
    public static func run(_ config: BrokerConfig, warnings: [String] = []) async throws {
        StraitLogging.bootstrap()
        let logger = Logger(label: "strait")
        for warning in warnings { logger.warning("\(warning)") }
        let broker = BrokerService(config: config, logger: Logger(label: "strait.broker"))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: broker)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
