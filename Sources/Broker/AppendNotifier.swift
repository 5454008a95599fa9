import NIOConcurrencyHelpers

/// Wakes fetches that are long-polling (`max.wait.ms`, `min.bytes`) when any partition grows.
///
/// A generation counter closes the race between "checked, found too little" and "started
/// waiting": a waiter passes the generation it saw and returns at once if it has moved.
public final class AppendNotifier: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters released (timeout, cancellation) before their continuation was registered.
        var released: Set<UInt64> = []
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public var generation: UInt64 { state.withLockedValue { $0.generation } }

    public func notifyAppended() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when an append happens after `generation`, after `timeoutMs`, or on cancellation.
    public func wait(after generation: UInt64, timeoutMs: Int64) async {
        guard timeoutMs > 0 else { return }
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeoutMs) * 1_000_000)
                self.release(id)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let now = self.state.withLockedValue { state -> Bool in
                            if state.generation != generation || state.released.contains(id) { return true }
                            state.waiters[id] = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.release(id)
                }
            }
            await group.next()
            group.cancelAll()
            self.release(id)
        }
        state.withLockedValue { _ = $0.released.remove(id) }
    }

    private func release(_ id: UInt64) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.released.insert(id)
            return nil
        }
        waiter?.resume()
    }
}
