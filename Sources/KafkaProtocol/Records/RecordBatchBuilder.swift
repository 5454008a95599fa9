import NIOCore

/// Builds a RecordBatch v2 one record at a time: each record is encoded into the batch body as
/// it is added, so a producer holds bytes rather than record values, and `build` only writes the
/// header, compresses the body and computes the CRC (the layout is on `RecordBatch`).
public struct RecordBatchBuilder: Sendable {
    public private(set) var recordCount: Int32 = 0
    public let baseTimestamp: Int64
    public private(set) var maxTimestamp: Int64
    private var body: ByteBuffer

    public init(baseTimestamp: Int64, capacity: Int = 1024, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.baseTimestamp = baseTimestamp
        maxTimestamp = baseTimestamp
        body = allocator.buffer(capacity: capacity)
    }

    /// Uncompressed size of the batch so far.
    public var sizeInBytes: Int { RecordBatch.headerSize + body.readableBytes }

    /// An upper bound on what a record adds to the body, for deciding whether it still fits.
    public static func estimatedRecordSize(keySize: Int?, valueSize: Int?, headers: [RecordHeader] = []) -> Int {
        var size = 21 + (keySize ?? 0) + (valueSize ?? 0)
        for header in headers { size += 10 + header.key.utf8.count + (header.value?.readableBytes ?? 0) }
        return size
    }

    /// Adds the next record; its offset delta is its position in the batch.
    public mutating func append(timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        append(Record(timestampDelta: timestamp - baseTimestamp, offsetDelta: recordCount, key: key, value: value, headers: headers))
    }

    /// Adds a record with the deltas it carries (rebuilding a batch keeps its offset deltas).
    public mutating func append(_ record: Record) {
        record.encode(into: &body)
        recordCount += 1
        maxTimestamp = max(maxTimestamp, baseTimestamp &+ record.timestampDelta)
    }

    /// The finished batch. `lastOffsetDelta` defaults to `recordCount - 1` and `maxTimestamp` to
    /// the largest record timestamp.
    public func build(baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1, attributes: RecordBatchAttributes = RecordBatchAttributes(),
                      lastOffsetDelta: Int32? = nil, maxTimestamp: Int64? = nil, producerId: Int64 = -1, producerEpoch: Int16 = -1,
                      baseSequence: Int32 = -1, into buffer: inout ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) {
        let codec = attributes.compression ?? .none
        let start = buffer.writerIndex
        buffer.writeInteger(baseOffset)
        buffer.writeInteger(Int32(0))  // batchLength, patched below
        buffer.writeInteger(partitionLeaderEpoch)
        buffer.writeInteger(Int8(2))
        buffer.writeInteger(UInt32(0))  // crc, patched below
        buffer.writeInteger(attributes.rawValue)
        buffer.writeInteger(lastOffsetDelta ?? max(0, recordCount - 1))
        buffer.writeInteger(baseTimestamp)
        buffer.writeInteger(maxTimestamp ?? self.maxTimestamp)
        buffer.writeInteger(producerId)
        buffer.writeInteger(producerEpoch)
        buffer.writeInteger(baseSequence)
        buffer.writeInteger(recordCount)
        if codec == .none {
            buffer.writeImmutableBuffer(body)
        } else {
            buffer.writeImmutableBuffer(try codec.compress(body, allocator: allocator))
        }
        let end = buffer.writerIndex
        buffer.setInteger(Int32(end - start - RecordBatch.logOverhead), at: start + 8)
        let crc = buffer.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[(start - buffer.readerIndex + RecordBatch.attributesOffset)..<(end - buffer.readerIndex)]))
        }
        buffer.setInteger(crc, at: start + RecordBatch.crcOffset)
    }

    public func build(attributes: RecordBatchAttributes = RecordBatchAttributes(), producerId: Int64 = -1, producerEpoch: Int16 = -1,
                      baseSequence: Int32 = -1, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: sizeInBytes)
        try build(attributes: attributes, producerId: producerId, producerEpoch: producerEpoch, baseSequence: baseSequence, into: &buffer, allocator: allocator)
        return buffer
    }
}
