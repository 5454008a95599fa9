import Broker
import Logging
import Mirror
import ServiceLifecycle

/// Runs the flows of an `mm2.properties` file in the foreground until SIGTERM or SIGINT, then
/// stops them gracefully: partitions handed back with their positions stored.
public enum MirrorRunner {
    /// `http`: host and port of the status endpoint (`/metrics`, `/status`), or nil for none.
    public static func run(_ configuration: MirrorConfiguration, http: (host: String, port: Int)?) async throws {
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
        var server: StatusServer?
        if let http {
            server = try await StatusServer.start(host: http.host, port: http.port, pages: [
                "/metrics": .init(contentType: "text/plain; version=0.0.4", body: { MirrorReport.metrics(agent.status) }),
                "/status": .init(contentType: "application/json", body: { MirrorReport.status(agent.status) }),
            ])
            logger.info("metrics on http://\(http.host):\(server!.port)/metrics, status on /status")
        }
        // Embedded sites stop after the agent (services stop in reverse order), so flows can
        // store their positions on the way out.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for cluster in configuration.clusters.values.sorted(by: { $0.alias < $1.alias }) {
            guard let directory = cluster.embeddedDataDirectory, let address = cluster.client.bootstrapServers.first else { continue }
            let config = BrokerConfig(listenHost: address.host, listenPort: address.port, dataDirectory: directory)
            do {
                try config.validate()
            } catch {
                throw MirrorConfigError(key: "\(cluster.alias).embedded.data.dir", "\(error)")
            }
            logger.info("embedded site \(cluster.alias) on \(address), data in \(directory)")
            services.append(.init(service: BrokerService(config: config, logger: Logger(label: "strait.site.\(cluster.alias)"))))
        }
        services.append(.init(service: MirrorService(agent: agent)))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await server?.close()
            throw error
        }
        await server?.close()
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
