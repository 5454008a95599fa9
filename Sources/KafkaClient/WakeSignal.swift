import NIOConcurrencyHelpers
import NIOCore

/// Wakes one background loop (the producer's sender, the consumer's fetcher) when there is new
/// work, or at a deadline. A notification that arrives while the loop is busy is remembered, so
/// none is lost between two waits.
final class WakeSignal: @unchecked Sendable {
    private let lock = NIOLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?
    private let eventLoop: EventLoop

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    func notify() {
        let resumed: CheckedContinuation<Void, Never>? = lock.withLock {
            if let waiter {
                self.waiter = nil
                return waiter
            }
            pending = true
            return nil
        }
        resumed?.resume()
    }

    /// Returns after a notification, or at `deadline` (never, when nil).
    func wait(until deadline: NIODeadline?) async {
        var timer: Scheduled<Void>?
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready: Bool = lock.withLock {
                if pending {
                    pending = false
                    return true
                }
                waiter = continuation
                return false
            }
            if ready {
                continuation.resume()
            } else if let deadline {
                timer = eventLoop.scheduleTask(deadline: deadline) { [self] in self.expire() }
            }
        }
        timer?.cancel()
    }

    /// The deadline passed: wakes the loop without leaving a notification behind. A timer that
    /// fires just after its wait ended at most wakes the next wait early.
    private func expire() {
        let resumed: CheckedContinuation<Void, Never>? = lock.withLock {
            defer { waiter = nil }
            return waiter
        }
        resumed?.resume()
    }
}
