import NIOConcurrencyHelpers

/// The port a listener actually bound, published once it is listening.
final class BoundPort: Sendable {
    private let port = NIOLockedValueBox<Int?>(nil)

    var value: Int? { port.withLockedValue { $0 } }

    func set(_ value: Int) {
        port.withLockedValue { $0 = value }
    }
}
