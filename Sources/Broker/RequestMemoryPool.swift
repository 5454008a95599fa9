import NIOConcurrencyHelpers
import NIOCore

/// `queued.max.request.bytes`: the memory all connections' requests may take at once, from the
/// moment a frame's size is read until its response is written (Kafka's memory pool, KIP-72).
/// A connection whose next frame does not fit is not read until enough is given back; frames
/// already granted keep arriving, so what is granted is always freed.
final class RequestMemoryPool: Sendable {
    let capacity: Int
    private let state = NIOLockedValueBox<(used: Int, waiters: [@Sendable () -> Void])>((0, []))

    init(capacity: Int) {
        self.capacity = capacity
    }

    var used: Int { state.withLockedValue { $0.used } }

    /// Grants `bytes` now, or returns false after registering `retry` to run once memory is given back.
    func reserve(_ bytes: Int, orRetry retry: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { state in
            // An empty pool grants any frame, so a limit below one frame's size cannot stall reading.
            if state.used == 0 || state.used + bytes <= capacity {
                state.used += bytes
                return true
            }
            state.waiters.append(retry)
            return false
        }
    }

    /// What one connection holds from the pool: granted as its frames' sizes are read, given
    /// back as they are answered, and all of it when the connection closes.
    final class Account: Sendable {
        let pool: RequestMemoryPool
        private let held = NIOLockedValueBox(0)

        init(pool: RequestMemoryPool) {
            self.pool = pool
        }

        func granted(_ bytes: Int) {
            held.withLockedValue { $0 += bytes }
        }

        /// A frame of `bytes` (size prefix included) is answered.
        func answered(_ bytes: Int) {
            let given = held.withLockedValue { held in
                let given = min(bytes, held)
                held -= given
                return given
            }
            if given > 0 { pool.release(given) }
        }

        func closed() {
            answered(Int.max)
        }
    }

    func release(_ bytes: Int) {
        let waiters = state.withLockedValue { state in
            state.used -= bytes
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter() }
    }
}
