import KafkaProtocol

/// The transactions of one partition: those still open (which hold back the last stable
/// offset) and those aborted (which `read_committed` consumers must skip, KIP-98).
///
/// Derived from the log: the partition rebuilds it from the batch headers (and the markers of
/// control batches) when it opens, in the same pass as the producer state, so it has no file
/// of its own and cannot disagree with the log after a crash.
struct TransactionIndex {
    struct AbortedTransaction: Equatable, Sendable {
        var producerId: Int64
        var firstOffset: Int64
        var lastOffset: Int64
    }

    /// Producer id → first offset of its open transaction.
    private(set) var ongoing: [Int64: Int64] = [:]
    private(set) var aborted: [AbortedTransaction] = []

    init(ongoing: [Int64: Int64] = [:], aborted: [AbortedTransaction] = []) {
        self.ongoing = ongoing
        self.aborted = aborted
    }

    var openProducers: Set<Int64> { Set(ongoing.keys) }

    /// Offsets from the first open transaction on are not yet stable.
    func lastStableOffset(highWatermark: Int64) -> Int64 {
        min(ongoing.values.min() ?? highWatermark, highWatermark)
    }

    /// Aborted transactions with data in `[from, to)`, for a read_committed Fetch.
    func aborted(from: Int64, to: Int64) -> [AbortedTransaction] {
        aborted.filter { $0.lastOffset >= from && $0.firstOffset < to }
    }

    /// Forgets aborted transactions that ended below the log start (retention, DeleteRecords).
    mutating func truncate(before logStartOffset: Int64) {
        aborted.removeAll { $0.lastOffset < logStartOffset }
    }

    /// A transactional data batch was appended.
    mutating func dataAppended(producerId: Int64, baseOffset: Int64) {
        if ongoing[producerId] == nil { ongoing[producerId] = baseOffset }
    }

    /// A marker at `offset` ended the producer's transaction.
    mutating func markerAppended(producerId: Int64, type: ControlRecord.ControlType, offset: Int64) {
        guard let first = ongoing.removeValue(forKey: producerId), type == .abort else { return }
        aborted.append(AbortedTransaction(producerId: producerId, firstOffset: first, lastOffset: offset))
    }
}
