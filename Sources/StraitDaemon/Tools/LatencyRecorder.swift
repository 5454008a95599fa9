import NIOConcurrencyHelpers

/// Latencies in microseconds, recorded from many tasks, summarised as percentiles. Kept whole
/// (4 bytes per sample): perf runs are millions of records, not billions.
public final class LatencyRecorder: @unchecked Sendable {
    private let lock = NIOLock()
    private var samples: [UInt32] = []

    public init(expected: Int = 0) {
        samples.reserveCapacity(expected)
    }

    public func record(microseconds: Int64) {
        let value = UInt32(clamping: max(0, microseconds))
        lock.withLock { samples.append(value) }
    }

    public struct Summary: Sendable {
        public var count: Int
        public var averageMs: Double
        public var maxMs: Double
        public var p50Ms: Double
        public var p95Ms: Double
        public var p99Ms: Double
        public var p999Ms: Double
    }

    public func summary() -> Summary {
        let sorted = lock.withLock { samples.sorted() }
        guard !sorted.isEmpty else { return Summary(count: 0, averageMs: 0, maxMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0) }
        func percentile(_ fraction: Double) -> Double {
            Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1000
        }
        let total = sorted.reduce(0.0) { $0 + Double($1) }
        return Summary(count: sorted.count, averageMs: total / Double(sorted.count) / 1000, maxMs: Double(sorted.last!) / 1000,
                       p50Ms: percentile(0.5), p95Ms: percentile(0.95), p99Ms: percentile(0.99), p999Ms: percentile(0.999))
    }
}
