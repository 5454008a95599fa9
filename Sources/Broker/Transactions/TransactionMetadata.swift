/// One transactional id: its producer, the open transaction's partitions and consumer groups.
struct TransactionMetadata: Sendable {
    var transactionalId: String
    var producerId: Int64
    var producerEpoch: Int16
    var timeoutMs: Int32
    var state: TransactionState
    var partitions: Set<TopicPartition> = []
    /// Groups whose offsets the transaction commits (AddOffsetsToTxn).
    var groups: Set<String> = []
    var startTimestampMs: Int64 = -1
    var lastUpdateTimestampMs: Int64
}
