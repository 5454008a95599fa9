/// Failures of the on-disk log, each mapped to a Kafka error code by the broker.
public enum LogStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed (errno and what was being done).
    case io(String, errno: Int32)
    /// The requested offset is outside `logStartOffset...logEndOffset`.
    case offsetOutOfRange(requested: Int64, logStart: Int64, logEnd: Int64)
    /// The batch is larger than the topic's `max.message.bytes`.
    case messageTooLarge(size: Int, limit: Int)
    /// The batch's bytes are damaged: CRC mismatch, torn or unparsable (CORRUPT_MESSAGE).
    case corruptBatch(String)
    /// The batch is intact but not acceptable: wrong magic, inconsistent offsets, a control
    /// batch from a client, no records (INVALID_RECORD).
    case invalidRecord(String)
    /// A timestamp outside the topic's allowed difference from the broker clock.
    case invalidTimestamp(String)
    /// An idempotent producer's batch from an epoch older than the partition has seen.
    case invalidProducerEpoch(String)
    /// An idempotent producer's batch does not continue its sequence.
    case outOfOrderSequence(String)
    /// The log was closed or deleted while in use.
    case closed

    public var description: String {
        switch self {
        case .io(let what, let errno): return "\(what): \(FileSystem.describe(errno: errno))"
        case .offsetOutOfRange(let requested, let start, let end): return "offset \(requested) outside \(start)...\(end)"
        case .messageTooLarge(let size, let limit): return "batch of \(size) bytes exceeds max.message.bytes \(limit)"
        case .corruptBatch(let why): return "corrupt batch: \(why)"
        case .invalidRecord(let why): return "invalid record: \(why)"
        case .invalidTimestamp(let why): return "invalid timestamp: \(why)"
        case .invalidProducerEpoch(let why): return why
        case .outOfOrderSequence(let why): return why
        case .closed: return "log closed"
        }
    }
}
