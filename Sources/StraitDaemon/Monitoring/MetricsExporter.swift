import Metrics
import Mirror
import NIOConcurrencyHelpers
import Prometheus

/// `/metrics`: every swift-metrics instrument of the process (the brokers', the mirror's
/// per-partition ones, the monitor's rates), rendered by swift-prometheus, plus the flows'
/// totals, brought up to date from their status at each scrape.
final class MetricsExporter: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let flows = NIOLockedValueBox<[String: FlowInstruments]>([:])

    /// Latencies in milliseconds: from loopback (under a millisecond) to a WAN link that is
    /// minutes behind.
    static let latencyBuckets: [Double] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000]

    private static let counters: [(name: String, help: String, value: @Sendable (FlowStatus) -> Int64)] = [
        ("strait_mirror_records_total", "Records copied to the target and acknowledged.", { $0.records }),
        ("strait_mirror_bytes_total", "Bytes of record batches acknowledged by the target.", { $0.bytes }),
        ("strait_mirror_batches_forwarded_total", "Source batches sent without decoding their records.", { $0.batchesForwarded }),
        ("strait_mirror_batches_rewritten_total", "Batches written again (gaps, control records, size, origin header).", { $0.batchesRewritten }),
        ("strait_mirror_records_skipped_total", "Records not copied because they came from the target.", { $0.recordsSkipped }),
        ("strait_mirror_restarts_total", "Times the data path resumed from acknowledged offsets after a failure.", { $0.restarts }),
        ("strait_mirror_data_loss_events_total", "Source records lost before they were copied, or topics recreated.", { $0.dataLossEvents }),
        ("strait_mirror_checkpoints_total", "Checkpoints written to the target.", { $0.checkpoints }),
        ("strait_mirror_heartbeats_total", "Heartbeats written to the target.", { $0.heartbeats }),
    ]

    private static let gauges: [(name: String, help: String, value: @Sendable (FlowStatus) -> Int64)] = [
        ("strait_mirror_stopped_partitions", "Partitions stopped by an alarm.", { Int64($0.alarms.filter(\.stopped).count) }),
        ("strait_mirror_assigned_partitions", "Source partitions this agent copies.", { Int64($0.assignedPartitions) }),
        ("strait_mirror_topics", "Source topics the flow replicates.", { Int64($0.topics) }),
        ("strait_mirror_offset_map_runs", "Runs of the offset map held for this agent's partitions.", { Int64($0.offsetMapRuns) }),
        ("strait_mirror_lag", "Records on the source not yet on the target, over this agent's partitions.", { $0.lag }),
    ]

    private struct FlowInstruments: Sendable {
        var counters: [(counter: Prometheus.Counter, last: Int64)]
        var gauges: [Prometheus.Gauge]
    }

    /// The process's one metrics backend; a second daemon in one process (tests) reuses it.
    private static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultValueHistogramBuckets = latencyBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    init() {
        registry = Self.shared
    }

    /// The exposition text, with the flows' totals brought up to date first.
    func render(_ status: [FlowStatus]) -> String {
        flows.withLockedValue { flows in
            for flow in status {
                var instruments = flows[flow.flow] ?? FlowInstruments(
                    counters: Self.counters.map { (registry.makeCounter(descriptor: .init(metricName: $0.name, unitName: "", helpText: $0.help), labels: [("flow", flow.flow)]), 0) },
                    gauges: Self.gauges.map { registry.makeGauge(descriptor: .init(metricName: $0.name, unitName: "", helpText: $0.help), labels: [("flow", flow.flow)]) })
                for (index, family) in Self.counters.enumerated() {
                    let value = family.value(flow)
                    if value > instruments.counters[index].last {
                        instruments.counters[index].counter.increment(by: value - instruments.counters[index].last)
                        instruments.counters[index].last = value
                    }
                }
                for (index, family) in Self.gauges.enumerated() { instruments.gauges[index].set(to: Double(family.value(flow))) }
                flows[flow.flow] = instruments
            }
        }
        return registry.emitToString()
    }
}
