import NIOConcurrencyHelpers

/// Latencies in microseconds, recorded from many tasks, summarised as percentiles.
///
/// A log-linear histogram rather than a list of samples: each power of two is split into 64
/// buckets, so a percentile is within 1.6% of the true sample, recording is one increment, and
/// the summary of millions of records needs no sort (a perf run's wall time includes it).
public final class LatencyRecorder: @unchecked Sendable {
    private static let subBuckets = 64
    private let lock = NIOLock()
    private var counts = [Int](repeating: 0, count: 64 * 40)
    private var total = 0
    private var sum: Int64 = 0
    private var maximum: Int64 = 0

    public init() {}

    /// Values below 128 have a bucket each; above, value >> e falls in [64, 128) for
    /// e = floor(log2 value) - 6, and bucket e * 64 + (value >> e) follows the previous range.
    static func bucket(_ value: Int64) -> Int {
        guard value >= Int64(2 * subBuckets) else { return Int(max(0, value)) }
        let exponent = 63 - value.leadingZeroBitCount - 6
        return exponent * subBuckets + Int(value >> exponent)
    }

    /// The smallest value of a bucket (what a percentile reports).
    static func lowerBound(_ bucket: Int) -> Int64 {
        guard bucket >= 2 * subBuckets else { return Int64(bucket) }
        let exponent = bucket / subBuckets - 1
        return Int64(bucket - exponent * subBuckets) << exponent
    }

    public func record(microseconds: Int64) {
        let value = max(0, microseconds)
        let index = min(Self.bucket(value), counts.count - 1)
        lock.withLock {
            counts[index] += 1
            total += 1
            sum += value
            if value > maximum { maximum = value }
        }
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
        lock.withLock {
            guard total > 0 else { return Summary(count: 0, averageMs: 0, maxMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0) }
            func percentile(_ fraction: Double) -> Double {
                let rank = Int(Double(total - 1) * fraction) + 1
                var seen = 0
                for (index, count) in counts.enumerated() where count > 0 {
                    seen += count
                    if seen >= rank { return Double(min(Self.lowerBound(index), maximum)) / 1000 }
                }
                return Double(maximum) / 1000
            }
            return Summary(count: total, averageMs: Double(sum) / Double(total) / 1000, maxMs: Double(maximum) / 1000,
                           p50Ms: percentile(0.5), p95Ms: percentile(0.95), p99Ms: percentile(0.99), p999Ms: percentile(0.999))
        }
    }
}
