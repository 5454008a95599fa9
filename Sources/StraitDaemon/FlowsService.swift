import Broker
import KafkaClient
import Logging
import Mirror
import ServiceLifecycle

/// The flows and the HTTP listener, started once every embedded site listens (a flow between
/// sites that never came up would retry forever), and stopped first on shutdown, so that flows
/// store their positions while the sites still run.
struct FlowsService: Service {
    let plan: DaemonPlan
    let sites: [(site: EmbeddedSite, broker: BrokerService)]
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                for (site, broker) in sites {
                    do {
                        let port = try await broker.listening()
                        logger.info("site \(site.name) listening on \(site.broker.listenHost):\(port)")
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        throw site.failure(error)
                    }
                }
            }
        } catch is CancellationError {
            return
        }
        let agent = MirrorAgent(configuration: plan.mirror, logger: logger)
        let server = try await startHTTP(agent)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await agent.run()
            } onGracefulShutdown: {
                agent.stop()
            }
        } onCancel: {
            agent.stop()
        }
        await server?.close()
    }

    private func startHTTP(_ agent: MirrorAgent) async throws -> StatusServer? {
        guard let http = plan.http else { return nil }
        do {
            let server = try await StatusServer.start(host: http.host, port: http.port, pages: [
                "/metrics": .init(contentType: "text/plain; version=0.0.4", body: { MirrorReport.metrics(agent.status) }),
                "/status": .init(contentType: "application/json", body: { MirrorReport.status(agent.status) }),
            ])
            logger.info("metrics on http://\(http.host):\(server.port)/metrics, status on /status")
            return server
        } catch {
            throw http.origin.failure("cannot listen on \(http.host):\(http.port): \(SocketErrorText.describe(error))")
        }
    }
}
