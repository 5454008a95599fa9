import NIOCore

/// A RecordBatch v2 with its records decoded: what producers build and the mirror rewrites.
///
/// Wire layout (61-byte header, big-endian): baseOffset INT64, batchLength INT32 (bytes after
/// this field), partitionLeaderEpoch INT32, magic INT8 = 2, crc UINT32 (CRC32C of everything
/// from attributes to the end), attributes INT16, lastOffsetDelta INT32, baseTimestamp INT64,
/// maxTimestamp INT64, producerId INT64, producerEpoch INT16, baseSequence INT32, record count
/// INT32, then the records, compressed as one block when the attributes name a codec.
public struct RecordBatch: Equatable, Sendable {
    public static let headerSize = 61
    /// Bytes before the batch length field ends: what `batchLength` does not count.
    public static let logOverhead = 12
    public static let crcOffset = 17
    public static let attributesOffset = 21

    public var baseOffset: Int64
    public var partitionLeaderEpoch: Int32
    public var attributes: RecordBatchAttributes
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var records: [Record]

    public init(
        baseOffset: Int64 = 0,
        partitionLeaderEpoch: Int32 = -1,
        attributes: RecordBatchAttributes = RecordBatchAttributes(),
        lastOffsetDelta: Int32? = nil,
        baseTimestamp: Int64,
        maxTimestamp: Int64? = nil,
        producerId: Int64 = -1,
        producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1,
        records: [Record]
    ) {
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta ?? (records.map(\.offsetDelta).max() ?? 0)
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp ?? (baseTimestamp &+ (records.map(\.timestampDelta).max() ?? 0))
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.records = records
    }

    /// Encodes the batch, compressing the records with the codec in `attributes`.
    public func encode(into buffer: inout ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) {
        var builder = RecordBatchBuilder(baseTimestamp: baseTimestamp, capacity: records.count * 32, allocator: allocator)
        for record in records { builder.append(record) }
        try builder.build(baseOffset: baseOffset, partitionLeaderEpoch: partitionLeaderEpoch, attributes: attributes, lastOffsetDelta: lastOffsetDelta,
                          maxTimestamp: maxTimestamp, producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence,
                          into: &buffer, allocator: allocator)
    }

    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.headerSize + records.count * 40)
        try encode(into: &buffer, allocator: allocator)
        return buffer
    }

    /// Decodes a whole batch (checking its CRC) and decompresses its records.
    public init(view: RecordBatchView, decompressionLimit: Int = CompressionCodec.defaultDecompressionLimit) throws(KafkaCodecError) {
        try view.validateIntegrity()
        baseOffset = view.baseOffset
        partitionLeaderEpoch = view.partitionLeaderEpoch
        attributes = view.attributes
        lastOffsetDelta = view.lastOffsetDelta
        baseTimestamp = view.baseTimestamp
        maxTimestamp = view.maxTimestamp
        producerId = view.producerId
        producerEpoch = view.producerEpoch
        baseSequence = view.baseSequence
        records = try view.decodeRecords(decompressionLimit: decompressionLimit)
    }

    /// Absolute offset of a record of this batch.
    public func offset(of record: Record) -> Int64 { baseOffset + Int64(record.offsetDelta) }

    /// Absolute timestamp of a record (LogAppendTime batches carry it in maxTimestamp).
    public func timestamp(of record: Record) -> Int64 {
        attributes.timestampType == .logAppendTime ? maxTimestamp : baseTimestamp &+ record.timestampDelta
    }
}
