import Foundation

/// What a perf run prints: one human line like Kafka's perf tools, or one JSON object (for
/// benchmark scripts) with the same figures.
public struct PerformanceReport: Sendable {
    public var records: Int
    public var bytes: Int
    public var seconds: Double
    public var latency: LatencyRecorder.Summary
    public var failures: Int

    public var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / 1_048_576 / seconds : 0 }

    public func line(verb: String) -> String {
        String(format: "%d records %@, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th; %d failed",
               records, verb, recordsPerSecond, megabytesPerSecond, latency.averageMs, latency.maxMs, latency.p50Ms, latency.p95Ms, latency.p99Ms, latency.p999Ms, failures)
    }

    public func json() -> String {
        let object: [String: Any] = [
            "records": records, "bytes": bytes, "seconds": seconds, "records_per_sec": recordsPerSecond, "mb_per_sec": megabytesPerSecond,
            "latency_ms": ["avg": latency.averageMs, "max": latency.maxMs, "p50": latency.p50Ms, "p95": latency.p95Ms, "p99": latency.p99Ms, "p999": latency.p999Ms],
            "failed": failures,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
