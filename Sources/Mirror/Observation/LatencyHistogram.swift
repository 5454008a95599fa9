/// Latencies in microseconds, as a compact log-linear histogram: each power of two is split
/// into 8 buckets, so a percentile is within 12.5% of the true value, a partition's histogram
/// is about a kilobyte, and recording is one increment. Enough for an operator's p99 per
/// partition; the exact distribution goes to the metrics backend.
public struct LatencyHistogram: Sendable, Equatable {
    private static let subBuckets = 8
    private static let bucketCount = 40 * subBuckets
    private var counts: [UInt32] = []
    public private(set) var count = 0

    public init() {}

    static func bucket(_ value: Int64) -> Int {
        guard value >= Int64(2 * subBuckets) else { return Int(max(0, value)) }
        let exponent = 63 - value.leadingZeroBitCount - 3
        return min(exponent * subBuckets + Int(value >> exponent), bucketCount - 1)
    }

    /// The largest value of a bucket: a percentile is never reported below the truth.
    static func upperBound(_ bucket: Int) -> Int64 {
        guard bucket >= 2 * subBuckets else { return Int64(bucket) }
        let exponent = bucket / subBuckets - 1
        return ((Int64(bucket - exponent * subBuckets) + 1) << exponent) - 1
    }

    public mutating func record(microseconds: Int64) {
        if counts.isEmpty { counts = [UInt32](repeating: 0, count: Self.bucketCount) }
        let index = Self.bucket(microseconds)
        if counts[index] < UInt32.max { counts[index] += 1 }
        count += 1
    }

    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        if counts.isEmpty { counts = [UInt32](repeating: 0, count: Self.bucketCount) }
        for index in counts.indices { counts[index] = counts[index].addingReportingOverflow(other.counts[index]).overflow ? .max : counts[index] + other.counts[index] }
        count += other.count
    }

    /// The value at `fraction` (0.99 for p99) in milliseconds, or nil with nothing recorded.
    public func percentileMs(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = UInt64((Double(count - 1) * fraction).rounded(.down)) + 1
        var seen: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += UInt64(bucketCount)
            if seen >= rank { return Double(Self.upperBound(index)) / 1000 }
        }
        return nil
    }
}
