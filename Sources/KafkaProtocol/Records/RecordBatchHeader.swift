import NIOCore

/// The fixed 61-byte header of a RecordBatch v2, parsed from its bytes alone: enough to walk a
/// log by offsets without reading any record (see `RecordBatch` for the layout).
public struct RecordBatchHeader: Equatable, Sendable {
    public var baseOffset: Int64
    public var batchLength: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var attributes: RecordBatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    /// Bytes the whole batch takes, header included.
    public var totalSize: Int { Int(batchLength) + RecordBatch.logOverhead }

    /// Parses the first 61 readable bytes of `bytes`.
    public init(_ bytes: ByteBuffer) throws(KafkaCodecError) {
        guard bytes.readableBytes >= RecordBatch.headerSize else { throw .truncated(field: "record batch header") }
        let base = bytes.readerIndex
        func at<T: FixedWidthInteger>(_ offset: Int) -> T { bytes.getInteger(at: base + offset, as: T.self)! }
        baseOffset = at(0)
        batchLength = at(8)
        partitionLeaderEpoch = at(12)
        magic = at(16)
        attributes = RecordBatchAttributes(rawValue: at(21))
        lastOffsetDelta = at(23)
        baseTimestamp = at(27)
        maxTimestamp = at(35)
        producerId = at(43)
        producerEpoch = at(51)
        baseSequence = at(53)
        recordCount = at(57)
        guard batchLength >= Int32(RecordBatch.headerSize - RecordBatch.logOverhead) else {
            throw .invalidLength(field: "batchLength", length: Int64(batchLength))
        }
    }
}
