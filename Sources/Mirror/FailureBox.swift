import KafkaClient
import NIOConcurrencyHelpers

/// The first failure reported by delivery callbacks, which run on event-loop threads.
final class FailureBox: Sendable {
    private let stored = NIOLockedValueBox<KafkaClientError?>(nil)

    func set(_ error: KafkaClientError) {
        stored.withLockedValue { if $0 == nil { $0 = error } }
    }

    var value: KafkaClientError? { stored.withLockedValue { $0 } }
}
