import Broker
import KafkaClient
import Logging
import Mirror
import ServiceLifecycle

/// The flows, started once every embedded site listens (a flow between sites that never came
/// up would retry forever), and stopped before the sites on shutdown, so that flows store their
/// positions while the sites still run.
struct FlowsService: Service {
    let plan: DaemonPlan
    let sites: [(site: EmbeddedSite, broker: BrokerService)]
    let monitor: DaemonMonitor
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
        monitor.flowsStarted(agent)
        defer { monitor.flowsStopped() }
        guard !plan.mirror.flows.isEmpty else {
            // Sites alone: nothing to run, but the daemon stays up until told to stop.
            try? await gracefulShutdown()
            return
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await agent.run()
            } onGracefulShutdown: {
                agent.stop()
            }
        } onCancel: {
            agent.stop()
        }
    }
}
