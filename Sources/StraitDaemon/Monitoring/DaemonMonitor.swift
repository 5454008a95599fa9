import Broker
import KafkaProtocol
import Metrics
import Mirror
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Watches the daemon: which sites listen, how the flows are doing, their rates (from the
/// counters, every `interval`) and the last ten minutes of lag and latency, so that `/status`,
/// the status page and the demo's view all show the same figures. It is itself a service: the
/// sampling runs until shutdown.
public final class DaemonMonitor: Service, Sendable {
    public static let interval = Duration.seconds(5)
    static let historyLength = 120
    /// Charts keep the partitions with the most lag; a flow of thousands would not fit a page.
    static let chartedPartitions = 50

    public let plan: DaemonPlan
    public let events: RecentEvents
    let startedMs = WallClock.nowMs()
    private let state = NIOLockedValueBox(State())

    private enum SiteState {
        case starting, listening(Int), failed(String), stopped
    }

    private struct State {
        var sites: [String: SiteState] = [:]
        var brokers: [String: BrokerService] = [:]
        var statistics: [String: BrokerStatistics] = [:]
        var agent: MirrorAgent?
        var flowsRunning = false
        var http: String?
        var previous: (timeMs: Int64, counters: [String: (records: Int64, bytes: Int64)])?
        var rates: [String: (records: Double, bytes: Double)] = [:]
        var history: [StatusDocument.Sample] = []
    }

    public init(plan: DaemonPlan, events: RecentEvents) {
        self.plan = plan
        self.events = events
        state.withLockedValue { state in
            for site in plan.sites { state.sites[site.name] = .starting }
        }
    }

    func attach(_ site: EmbeddedSite, _ broker: BrokerService) {
        state.withLockedValue { $0.brokers[site.name] = broker }
    }

    func listening(_ site: String, port: Int) {
        state.withLockedValue { $0.sites[site] = .listening(port) }
    }

    func failed(_ site: String, _ reason: String) {
        state.withLockedValue { $0.sites[site] = .failed(reason) }
    }

    func stopped(_ site: String) {
        state.withLockedValue { $0.sites[site] = .stopped }
    }

    func flowsStarted(_ agent: MirrorAgent) {
        state.withLockedValue {
            $0.agent = agent
            $0.flowsRunning = true
        }
    }

    func flowsStopped() {
        state.withLockedValue { $0.flowsRunning = false }
    }

    func httpListening(_ address: String) {
        state.withLockedValue { $0.http = address }
    }

    /// The flows' own status, for metrics.
    var flowStatus: [FlowStatus] { state.withLockedValue { $0.agent }?.status ?? [] }

    /// Why the daemon is not ready, if it is not: a site not listening, flows not started.
    var notReady: [String] {
        state.withLockedValue { state in
            var reasons: [String] = []
            for site in plan.sites {
                switch state.sites[site.name] ?? .starting {
                case .listening: continue
                case .starting: reasons.append("site \(site.name) is starting")
                case .failed(let reason): reasons.append("site \(site.name) failed: \(reason)")
                case .stopped: reasons.append("site \(site.name) stopped")
                }
            }
            if !state.flowsRunning { reasons.append("flows are not running") }
            return reasons
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.sample()
                try? await Task.sleep(for: Self.interval)
            }
        }
    }

    /// Takes one sample: broker sizes, flow rates since the last sample, a history point.
    func sample() async {
        let brokers = state.withLockedValue { $0.brokers }
        var statistics: [String: BrokerStatistics] = [:]
        for (name, broker) in brokers {
            if let value = await broker.statistics() { statistics[name] = value }
        }
        for (name, value) in statistics { Self.publish(site: name, value) }
        let flows = flowStatus
        let now = WallClock.nowMs()
        state.withLockedValue { state in
            state.statistics = statistics
            var counters: [String: (records: Int64, bytes: Int64)] = [:]
            for flow in flows {
                counters[flow.flow] = (flow.records, flow.bytes)
                for partition in flow.partitions { counters[Self.key(flow.flow, partition)] = (partition.records, partition.bytes) }
            }
            if let previous = state.previous, now > previous.timeMs {
                let seconds = Double(now - previous.timeMs) / 1000
                state.rates = counters.reduce(into: [:]) { rates, entry in
                    let before = previous.counters[entry.key] ?? (0, 0)
                    rates[entry.key] = (Double(max(0, entry.value.records - before.records)) / seconds,
                                        Double(max(0, entry.value.bytes - before.bytes)) / seconds)
                }
            }
            state.previous = (now, counters)
            var sample = StatusDocument.Sample(timeMs: now, flows: [:], partitions: [:])
            for flow in flows {
                sample.flows[flow.flow] = .init(lag: flow.lag, latencyP99Ms: flow.latency.percentileMs(0.99),
                                                recordRate: state.rates[flow.flow]?.records ?? 0)
                for partition in flow.partitions {
                    let key = Self.key(flow.flow, partition)
                    Gauge(label: "strait_mirror_record_rate", dimensions: Self.dimensions(flow.flow, partition)).record(state.rates[key]?.records ?? 0)
                    Gauge(label: "strait_mirror_byte_rate", dimensions: Self.dimensions(flow.flow, partition)).record(state.rates[key]?.bytes ?? 0)
                }
                for partition in flow.partitions.sorted(by: { ($0.lag ?? 0) > ($1.lag ?? 0) }).prefix(Self.chartedPartitions) {
                    let key = Self.key(flow.flow, partition)
                    sample.partitions[key] = .init(lag: partition.lag ?? 0, latencyP99Ms: partition.latency.percentileMs(0.99),
                                                   recordRate: state.rates[key]?.records ?? 0)
                }
            }
            state.history.append(sample)
            if state.history.count > Self.historyLength { state.history.removeFirst(state.history.count - Self.historyLength) }
        }
    }

    private static func key(_ flow: String, _ partition: PartitionStatus) -> String {
        "\(flow) \(partition.topic)-\(partition.partition)"
    }

    private static func dimensions(_ flow: String, _ partition: PartitionStatus) -> [(String, String)] {
        [("flow", flow), ("topic", partition.topic), ("partition", String(partition.partition))]
    }

    private static func publish(site: String, _ statistics: BrokerStatistics) {
        let dimensions = [("site", site)]
        Gauge(label: "strait_broker_topics", dimensions: dimensions).record(statistics.topics)
        Gauge(label: "strait_broker_partitions", dimensions: dimensions).record(statistics.partitions)
        Gauge(label: "strait_broker_log_size_bytes", dimensions: dimensions).record(statistics.logBytes)
        Gauge(label: "strait_broker_groups", dimensions: dimensions).record(statistics.groups)
    }

    /// The whole picture, as `/status` serves it.
    public func status() -> StatusDocument {
        let flows = flowStatus
        let events = self.events.all.map { StatusDocument.Event(timeMs: $0.timeMs, level: $0.level, source: $0.source, message: $0.message) }
        let notReady = self.notReady
        return state.withLockedValue { state in
            var sites: [StatusDocument.Site] = []
            for site in plan.sites {
                var entry = StatusDocument.Site(name: site.name, embedded: true, address: "\(site.broker.listenHost):\(site.broker.listenPort)",
                                                dataDir: site.broker.dataDirectory, state: "starting")
                switch state.sites[site.name] ?? .starting {
                case .starting: break
                case .listening(let port):
                    entry.state = "listening"
                    entry.address = "\(site.broker.listenHost):\(port)"
                case .failed(let reason):
                    entry.state = "failed"
                    entry.error = reason
                case .stopped: entry.state = "stopped"
                }
                if let statistics = state.statistics[site.name] {
                    entry.topics = statistics.topics
                    entry.partitions = statistics.partitions
                    entry.logBytes = statistics.logBytes
                    entry.groups = statistics.groups
                    entry.connections = statistics.connections
                }
                sites.append(entry)
            }
            let embedded = Set(plan.sites.map(\.name))
            for cluster in plan.mirror.clusters.values.sorted(by: { $0.alias < $1.alias }) where !embedded.contains(cluster.alias) {
                sites.append(.init(name: cluster.alias, embedded: false, address: cluster.client.bootstrapServers.map(\.description).joined(separator: ","),
                                   state: "external"))
            }
            let documentFlows = flows.map { flow in
                let settings = plan.mirror.flows.first { $0.name == flow.flow }
                return StatusDocument.Flow(
                    flow: flow.flow, source: settings?.source ?? "", target: settings?.target ?? "", records: flow.records, bytes: flow.bytes,
                    recordRate: state.rates[flow.flow]?.records ?? 0, byteRate: state.rates[flow.flow]?.bytes ?? 0, lag: flow.lag,
                    latencyP99Ms: flow.latency.percentileMs(0.99), lastCheckpointMs: flow.groups.map(\.timeMs).max(),
                    batchesForwarded: flow.batchesForwarded, batchesRewritten: flow.batchesRewritten, recordsSkipped: flow.recordsSkipped,
                    restarts: flow.restarts, dataLossEvents: flow.dataLossEvents, assignedPartitions: flow.assignedPartitions, topics: flow.topics,
                    checkpoints: flow.checkpoints, heartbeats: flow.heartbeats, offsetMapRuns: flow.offsetMapRuns,
                    partitions: flow.partitions.map { partition in
                        StatusDocument.Partition(topic: partition.topic, partition: partition.partition, targetTopic: partition.targetTopic,
                                                 sourceEnd: partition.sourceEnd, position: partition.position, lag: partition.lag,
                                                 records: partition.records, bytes: partition.bytes,
                                                 recordRate: state.rates[Self.key(flow.flow, partition)]?.records ?? 0,
                                                 latencyP99Ms: partition.latency.percentileMs(0.99))
                    },
                    groups: flow.groups.map { .init(group: $0.group, lastCheckpointMs: $0.timeMs, partitions: $0.partitions) },
                    alarms: flow.alarms.map { .init(topic: $0.topic, partition: $0.partition, message: $0.message, stopped: $0.stopped) })
            }
            return StatusDocument(version: StraitVersion.current, startedMs: startedMs, nowMs: WallClock.nowMs(), ready: notReady.isEmpty,
                                  notReady: notReady, http: state.http, sites: sites, flows: documentFlows,
                                  events: events, lastError: events.last { $0.level == "error" || $0.level == "critical" },
                                  history: state.history)
        }
    }
}
