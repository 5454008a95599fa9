import KafkaProtocol

/// Sequence checks for idempotent producers on one partition, as Kafka's broker makes them:
/// a batch from an older epoch is fenced (INVALID_PRODUCER_EPOCH); a new epoch starts at
/// sequence 0; within an epoch each batch continues the previous one's sequence
/// (OUT_OF_ORDER_SEQUENCE_NUMBER otherwise), and a batch equal to one of the last five is a
/// retry, answered with its original offsets and not written again. A producer the partition
/// has no state for (new, or its batches were deleted) may start at any sequence.
///
/// The state is rebuilt from the batch headers in the log when the partition opens.
struct ProducerStateManager {
    enum Verdict: Equatable {
        case append
        case duplicate(ProducerStateEntry.BatchMetadata)
    }

    private(set) var producers: [Int64: ProducerStateEntry] = [:]

    init(producers: [Int64: ProducerStateEntry] = [:]) {
        self.producers = producers
    }

    func check(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32) throws(LogStoreError) -> Verdict {
        guard producerId >= 0, let entry = producers[producerId] else { return .append }
        if epoch < entry.epoch {
            throw .invalidProducerEpoch("epoch \(epoch) of producer \(producerId) is older than the current \(entry.epoch)")
        }
        if epoch > entry.epoch {
            guard firstSequence == 0 else {
                throw .outOfOrderSequence("producer \(producerId) started epoch \(epoch) at sequence \(firstSequence), expected 0")
            }
            return .append
        }
        if let original = entry.duplicate(firstSequence: firstSequence, lastSequence: lastSequence) {
            return .duplicate(original)
        }
        if let last = entry.lastSequence {
            let expected = last == Int32.max ? 0 : last + 1
            guard firstSequence == expected else {
                throw .outOfOrderSequence("producer \(producerId) sent sequence \(firstSequence), expected \(expected)")
            }
        }
        return .append
    }

    /// Records a batch that was appended (or found in the log at start).
    mutating func update(producerId: Int64, epoch: Int16, firstSequence: Int32, lastSequence: Int32, firstOffset: Int64, lastOffset: Int64, timestamp: Int64) {
        guard producerId >= 0 else { return }
        var entry = producers[producerId] ?? ProducerStateEntry(epoch: epoch)
        if epoch != entry.epoch { entry = ProducerStateEntry(epoch: epoch) }
        entry.record(.init(firstSequence: firstSequence, lastSequence: lastSequence, firstOffset: firstOffset, lastOffset: lastOffset))
        entry.lastTimestamp = timestamp
        producers[producerId] = entry
    }

    /// `producer.id.expiration.ms`: forgets producers idle that long, except those with a
    /// transaction still open. Returns how many were forgotten.
    mutating func expire(olderThan cutoff: Int64, keeping open: Set<Int64>) -> Int {
        let before = producers.count
        producers = producers.filter { $0.value.lastTimestamp >= cutoff || open.contains($0.key) }
        return before - producers.count
    }

    mutating func update(from header: RecordBatchHeader) {
        guard header.producerId >= 0, header.baseSequence >= 0 else { return }
        let last = header.baseSequence &+ header.lastOffsetDelta
        update(producerId: header.producerId, epoch: header.producerEpoch, firstSequence: header.baseSequence,
               lastSequence: last < 0 ? last &- Int32.min : last, firstOffset: header.baseOffset, lastOffset: header.lastOffset,
               timestamp: header.maxTimestamp)
    }

}
