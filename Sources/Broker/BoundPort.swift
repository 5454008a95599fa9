import NIOConcurrencyHelpers

/// The port a listener actually bound, published once it is listening, or why the broker never
/// got that far: a daemon starts its flows only after every embedded site listens, and stops
/// with the site's reason otherwise.
final class BoundPort: Sendable {
    private enum State {
        case starting([Int: CheckedContinuation<Int, any Error>])
        case bound(Int)
        case failed(any Error)
    }

    private let state = NIOLockedValueBox((state: State.starting([:]), nextWaiter: 0))

    var value: Int? {
        state.withLockedValue { box in
            if case .bound(let port) = box.state { return port }
            return nil
        }
    }

    func set(_ port: Int) {
        resolve(.bound(port)).forEach { $0.resume(returning: port) }
    }

    /// Records why the listener never started; once bound, later failures change nothing.
    func fail(_ error: any Error) {
        resolve(.failed(error)).forEach { $0.resume(throwing: error) }
    }

    /// Waits for the outcome; a cancelled waiter gets `CancellationError` (a daemon told to
    /// stop while a site is still recovering its log stops waiting for it).
    func wait() async throws -> Int {
        let id = state.withLockedValue { box in
            box.nextWaiter += 1
            return box.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome: Result<Int, any Error>? = state.withLockedValue { box in
                    switch box.state {
                    case .starting(var waiting):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiting[id] = continuation
                        box.state = .starting(waiting)
                        return nil
                    case .bound(let port): return .success(port)
                    case .failed(let error): return .failure(error)
                    }
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Int, any Error>? = state.withLockedValue { box in
                guard case .starting(var waiting) = box.state, let waiter = waiting.removeValue(forKey: id) else { return nil }
                box.state = .starting(waiting)
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func resolve(_ final: State) -> [CheckedContinuation<Int, any Error>] {
        state.withLockedValue { box in
            guard case .starting(let waiting) = box.state else { return [] }
            box.state = final
            return Array(waiting.values)
        }
    }
}
