import Broker
import Logging
import ServiceLifecycle

/// Runs a daemon plan in the foreground: embedded sites first, then the flows and the HTTP
/// listener. SIGTERM, SIGINT and SIGHUP (as a JVM's shutdown hooks take it) stop it gracefully
/// in every state (flows hand their partitions
/// back with positions stored, then sites close their logs cleanly); a site or listener that
/// cannot start stops it with one line naming the setting.
public enum Daemon {
    /// Shutdown is graceful for this long, then tasks are cancelled; a part that ignores
    /// cancellation too ends the process rather than leave it unkillable but by kill -9.
    static let gracefulShutdownLimit = Duration.seconds(30)
    static let cancellationLimit = Duration.seconds(10)

    /// `extra` adds services that run beside the daemon's own and stop first (the demo's
    /// producer and view).
    public static func run(_ plan: DaemonPlan, extra: (DaemonMonitor) -> [any Service] = { _ in [] }) async throws {
        let events = RecentEvents()
        StraitLogging.bootstrap(level: plan.logLevel, events: events)
        // Before any broker or flow makes its instruments.
        let exporter = MetricsExporter()
        let logger = Logger(label: "strait")
        for key in plan.mirror.ignoredKeys {
            logger.notice("\(key): accepted for MirrorMaker 2 compatibility, no effect in Strait")
        }
        for flow in plan.mirror.flows {
            logger.info("flow \(flow.name): topics \(flow.topics.include.joined(separator: ", ")) excluding \(flow.topics.exclude.joined(separator: ", "))")
        }
        let monitor = DaemonMonitor(plan: plan, events: events)
        let sites = plan.sites.map { site in
            (site: site, broker: BrokerService(config: site.broker, logger: Logger(label: "strait.site.\(site.name)")))
        }
        for (site, _) in sites {
            for warning in site.warnings { logger.warning("\(warning)") }
            logger.info("embedded site \(site.name) on \(site.broker.listenHost):\(site.broker.listenPort), data in \(site.broker.dataDirectory)")
        }
        // Services stop in reverse order: the extras, then the flows before the sites they copy
        // between, and the HTTP listener last.
        var services: [any Service] = [monitor]
        if let http = plan.http {
            services.append(HTTPService(listener: http, monitor: monitor, exporter: exporter, logger: Logger(label: "strait.http")))
        }
        services += sites.map { SiteService(site: $0.site, broker: $0.broker, monitor: monitor) }
        services.append(FlowsService(plan: plan, sites: sites, monitor: monitor, logger: Logger(label: "strait.mirror")))
        services += extra(monitor)
        var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint, .sighup],
                                                      logger: logger)
        configuration.maximumGracefulShutdownDuration = gracefulShutdownLimit
        configuration.maximumCancellationDuration = cancellationLimit
        try await ServiceGroup(configuration: configuration).run()
    }
}
