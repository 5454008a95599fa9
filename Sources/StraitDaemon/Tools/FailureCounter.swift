import KafkaClient
import NIOConcurrencyHelpers

/// Counts failed deliveries and keeps the first error, for the tools' summaries.
final class FailureCounter: @unchecked Sendable {
    private let lock = NIOLock()
    private(set) var first: KafkaClientError?
    private var total = 0

    func add(_ error: KafkaClientError) {
        lock.withLock {
            total += 1
            if first == nil { first = error }
        }
    }

    var count: Int { lock.withLock { total } }
}
