/// The batches of one partition sent and not yet acted on, in send order. A producer awaits each
/// request's answer on a task of its own, so answers can come in any order; the copier acts on
/// them (positions, the offset map) only in the order the batches were sent, which is their
/// order in the target's log. Otherwise a later batch's answer could store a position, or map
/// offsets, past an earlier batch that was not yet answered, or never lands.
struct PartitionSendQueue<Answer> {
    /// Tells answers to this queue from answers to one it replaced (after a restart, a rewind or
    /// a handover), which are ignored.
    let epoch: Int
    private var next = 0
    private var released = 0
    private var answered: [Int: Answer] = [:]

    init(epoch: Int) {
        self.epoch = epoch
    }

    /// Sent and not yet released.
    var inFlight: Int { next - released }

    /// The sequence number of a batch about to be sent.
    mutating func enqueue() -> Int {
        defer { next += 1 }
        return next
    }

    /// Records the answer to batch `sequence`; returns the answers that can now be acted on, in
    /// send order.
    mutating func answer(_ sequence: Int, _ answer: Answer) -> [Answer] {
        answered[sequence] = answer
        var ready: [Answer] = []
        while let first = answered.removeValue(forKey: released) {
            ready.append(first)
            released += 1
        }
        return ready
    }
}
