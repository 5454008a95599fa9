import Broker
import ServiceLifecycle

/// An embedded site as a service of the daemon: its broker, with any failure turned into the
/// one line that names the site and the setting to blame.
struct SiteService: Service {
    let site: EmbeddedSite
    let broker: BrokerService

    func run() async throws {
        do {
            try await broker.run()
        } catch {
            throw site.failure(error)
        }
    }
}
