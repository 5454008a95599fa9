import Broker
import ServiceLifecycle

/// An embedded site as a service of the daemon: its broker, with its state reported to the
/// monitor and any failure turned into the one line that names the site and the setting to
/// blame.
struct SiteService: Service {
    let site: EmbeddedSite
    let broker: BrokerService
    let monitor: DaemonMonitor

    func run() async throws {
        monitor.attach(site, broker)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    if let port = try? await broker.listening() { monitor.listening(site.name, port: port) }
                }
                group.addTask { try await broker.run() }
                try await group.waitForAll()
            }
            monitor.stopped(site.name)
        } catch {
            let failure = site.failure(error)
            monitor.failed(site.name, failure.description)
            throw failure
        }
    }
}
