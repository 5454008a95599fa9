import KafkaProtocol

/// The open transactions of one partition, which hold back the last stable offset (KIP-98).
///
/// Derived from the log: rebuilt from the batch headers when the partition opens (or taken from
/// the clean-shutdown snapshot), so it cannot disagree with the log after a crash. Aborted
/// transactions, once decided, go to the segment that holds their marker (`TransactionIndex`).
struct OngoingTransactions {
    /// Producer id → first offset of its open transaction.
    private(set) var firstOffsets: [Int64: Int64] = [:]

    init(firstOffsets: [Int64: Int64] = [:]) {
        self.firstOffsets = firstOffsets
    }

    var openProducers: Set<Int64> { Set(firstOffsets.keys) }

    /// Offsets from the first open transaction on are not yet stable.
    func lastStableOffset(highWatermark: Int64) -> Int64 {
        min(firstOffsets.values.min() ?? highWatermark, highWatermark)
    }

    /// A transactional data batch was appended.
    mutating func dataAppended(producerId: Int64, baseOffset: Int64) {
        if firstOffsets[producerId] == nil { firstOffsets[producerId] = baseOffset }
    }

    /// A marker at `offset` ended the producer's transaction; an abort returns the entry the
    /// marker's segment must index.
    mutating func markerAppended(producerId: Int64, type: ControlRecord.ControlType, offset: Int64, highWatermark: Int64) -> TransactionIndex.AbortedTxn? {
        guard let first = firstOffsets.removeValue(forKey: producerId), type == .abort else { return nil }
        return TransactionIndex.AbortedTxn(producerId: producerId, firstOffset: first, lastOffset: offset,
                                           lastStableOffset: lastStableOffset(highWatermark: highWatermark))
    }
}
