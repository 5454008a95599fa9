import NIOConcurrencyHelpers

/// `queued.max.requests`: how many requests the broker works on at once across connections.
/// A connection that finds none free waits before its request is dispatched, and so is not
/// read meanwhile: load from many connections queues instead of piling up in memory. A request
/// that waits on others (`RequestContext.parked`) gives its slot back for the wait.
final class RequestPermits: Sendable {
    private let state: NIOLockedValueBox<(available: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(count: Int) {
        state = NIOLockedValueBox((count, []))
    }

    func acquire() async {
        if state.withLockedValue({ state in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }) { return }
        await withCheckedContinuation { continuation in
            let granted = state.withLockedValue { state in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the permit to the longest waiter, or back to the pool.
    func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
