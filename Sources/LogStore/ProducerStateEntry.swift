/// What a partition remembers of one idempotent producer (KIP-98): its epoch and its last five
/// batches, the most a producer has in flight, so a retried batch is recognised as a duplicate.
struct ProducerStateEntry {
    struct BatchMetadata: Equatable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
    }

    static let retainedBatches = 5

    var epoch: Int16
    var batches: [BatchMetadata] = []
    /// The max timestamp of the producer's last batch (DescribeProducers).
    var lastTimestamp: Int64 = -1

    var lastSequence: Int32? { batches.last?.lastSequence }

    mutating func record(_ batch: BatchMetadata) {
        batches.append(batch)
        if batches.count > Self.retainedBatches { batches.removeFirst(batches.count - Self.retainedBatches) }
    }

    func duplicate(firstSequence: Int32, lastSequence: Int32) -> BatchMetadata? {
        batches.first { $0.firstSequence == firstSequence && $0.lastSequence == lastSequence }
    }
}
