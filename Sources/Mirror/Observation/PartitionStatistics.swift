import CoreMetrics
import KafkaClient
import KafkaProtocol

/// What an operator watches per copied partition: the source's end, the records and bytes
/// landed, and latencies over a sliding window (the last 10 to 20 seconds), with MirrorMaker
/// 2's metric names under `strait_mirror_` (record-count, byte-count, replication-latency-ms,
/// record-age-ms) plus the offset lag MM2 does not report.
struct PartitionStatistics {
    static let window: Int64 = 10_000

    let targetTopic: String
    var sourceEnd: Int64?
    var records: Int64 = 0
    var bytes: Int64 = 0
    private var latency = (current: LatencyHistogram(), previous: LatencyHistogram(), startedMs: Int64(0))
    private let instruments: Instruments

    private struct Instruments {
        let records: Counter
        let bytes: Counter
        let replicationLatency: Recorder
        let recordAge: Recorder
        let lag: Gauge
    }

    init(flow: String, partition: TopicPartition, targetTopic: String) {
        self.targetTopic = targetTopic
        let dimensions = [("flow", flow), ("topic", partition.topic), ("partition", String(partition.partition))]
        instruments = Instruments(
            records: Counter(label: "strait_mirror_record_count", dimensions: dimensions),
            bytes: Counter(label: "strait_mirror_byte_count", dimensions: dimensions),
            replicationLatency: Recorder(label: "strait_mirror_replication_latency_ms", dimensions: dimensions, aggregate: true),
            recordAge: Recorder(label: "strait_mirror_record_age_ms", dimensions: dimensions, aggregate: true),
            lag: Gauge(label: "strait_mirror_offset_lag", dimensions: dimensions))
    }

    /// A fetch: the source's end and how old its newest records were when read.
    mutating func fetched(highWatermark: Int64, batches: [RecordBatchView], position: Int64?, nowMs: Int64) {
        sourceEnd = highWatermark
        for batch in batches where batch.maxTimestamp > 0 {
            instruments.recordAge.record(max(0, nowMs - batch.maxTimestamp))
        }
        updateLag(position: position)
    }

    /// A batch the target acknowledged: latency from the record's timestamp to now.
    mutating func delivered(records: Int64, bytes: Int64, timestamp: Int64, nowMs: Int64) {
        self.records += records
        self.bytes += bytes
        instruments.records.increment(by: records)
        instruments.bytes.increment(by: bytes)
        if timestamp > 0 {
            let ms = max(0, nowMs - timestamp)
            Self.slide(&latency, nowMs)
            latency.current.record(microseconds: ms * 1000)
            instruments.replicationLatency.record(ms)
        }
    }

    /// Records the source holds that the target does not have yet (`position` is the last
    /// source offset copied).
    func lag(position: Int64?) -> Int64? {
        guard let sourceEnd else { return nil }
        return max(0, sourceEnd - ((position ?? -1) + 1))
    }

    /// After the position moved (or the source's end did).
    func updateLag(position: Int64?) {
        if let lag = lag(position: position) { instruments.lag.record(lag) }
    }

    /// Replication latencies of the last window or two.
    mutating func recentLatency(nowMs: Int64) -> LatencyHistogram {
        Self.slide(&latency, nowMs)
        var merged = latency.previous
        merged.merge(latency.current)
        return merged
    }

    private static func slide(_ window: inout (current: LatencyHistogram, previous: LatencyHistogram, startedMs: Int64), _ nowMs: Int64) {
        guard nowMs - window.startedMs >= Self.window else { return }
        window.previous = nowMs - window.startedMs >= 2 * Self.window ? LatencyHistogram() : window.current
        window.current = LatencyHistogram()
        window.startedMs = nowMs
    }
}
