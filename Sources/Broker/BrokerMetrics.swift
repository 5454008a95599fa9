import CoreMetrics
import KafkaProtocol
import NIOConcurrencyHelpers

/// The broker's counters for Prometheus (through swift-metrics, so a broker without a metrics
/// backend pays nothing but a no-op call): requests by API, bytes in and out, open connections.
/// Handles are made once, up front: creating one per request would take the factory's lock on
/// the hot path.
final class BrokerMetrics: Sendable {
    private let requests: [Int16: Counter]
    private let bytesIn: Counter
    private let bytesOut: Counter
    private let open = NIOLockedValueBox(0)
    private let connectionsGauge: Gauge

    init(site: String, apis: [ApiKey]) {
        requests = Dictionary(uniqueKeysWithValues: apis.map { api in
            (api.rawValue, Counter(label: "strait_broker_requests", dimensions: [("site", site), ("api", api.name)]))
        })
        bytesIn = Counter(label: "strait_broker_bytes_in", dimensions: [("site", site)])
        bytesOut = Counter(label: "strait_broker_bytes_out", dimensions: [("site", site)])
        connectionsGauge = Gauge(label: "strait_broker_connections", dimensions: [("site", site)])
    }

    /// A request frame (its size prefix included) and its API key.
    func request(_ frame: Int, apiKey: Int16?) {
        bytesIn.increment(by: Int64(frame + 4))
        if let apiKey { requests[apiKey]?.increment() }
    }

    func response(_ bytes: Int) {
        bytesOut.increment(by: Int64(bytes))
    }

    var connections: Int { open.withLockedValue { $0 } }

    func connection(opened: Bool) {
        let count = open.withLockedValue { count in
            count += opened ? 1 : -1
            return count
        }
        connectionsGauge.record(count)
    }
}
