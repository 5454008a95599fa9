import NIOCore

/// A RecordBatch v2 read in place: header fields straight from the bytes, records decoded only
/// on request. The broker's append path validates and patches batches through this view
/// without touching the records (DESIGN.md, "Batches stay batches").
public struct RecordBatchView: Sendable {
    /// Exactly the batch's bytes, from baseOffset to the end of its last record.
    public private(set) var bytes: ByteBuffer

    /// Wraps the bytes of one batch; checks only that the header is present and the length fits.
    public init(bytes: ByteBuffer) throws(KafkaCodecError) {
        guard bytes.readableBytes >= RecordBatch.headerSize else { throw .truncated(field: "record batch header") }
        let length = bytes.getInteger(at: bytes.readerIndex + 8, as: Int32.self)!
        guard Int(length) + RecordBatch.logOverhead == bytes.readableBytes else {
            throw .invalidLength(field: "batchLength", length: Int64(length))
        }
        self.bytes = bytes
    }

    private func field<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        bytes.getInteger(at: bytes.readerIndex + offset, as: T.self)!
    }

    public var baseOffset: Int64 { field(0) }
    public var batchLength: Int32 { field(8) }
    public var partitionLeaderEpoch: Int32 { field(12) }
    public var magic: Int8 { field(16) }
    public var crc: UInt32 { field(17) }
    public var attributes: RecordBatchAttributes { RecordBatchAttributes(rawValue: field(21)) }
    public var lastOffsetDelta: Int32 { field(23) }
    public var baseTimestamp: Int64 { field(27) }
    public var maxTimestamp: Int64 { field(35) }
    public var producerId: Int64 { field(43) }
    public var producerEpoch: Int16 { field(51) }
    public var baseSequence: Int32 { field(53) }
    public var recordCount: Int32 { field(57) }
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    public var sizeInBytes: Int { bytes.readableBytes }

    /// The CRC32C the header should carry.
    public func computeChecksum() -> UInt32 {
        bytes.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatch.attributesOffset...]))
        }
    }

    /// Checks that the bytes are an intact batch: magic, CRC, a known codec, a sane count.
    /// Enough for data already in a log, where compaction leaves gaps between offsets.
    public func validateIntegrity() throws(KafkaCodecError) {
        guard magic == 2 else { throw .corrupt("record batch magic \(magic), expected 2") }
        let expected = computeChecksum()
        guard crc == expected else { throw .corrupt("record batch CRC \(crc) != computed \(expected)") }
        guard attributes.compression != nil else { throw .corrupt("unknown compression codec \(attributes.rawValue & 7)") }
        guard recordCount >= 0 else { throw .corrupt("negative record count \(recordCount)") }
    }

    /// Checks what a Kafka broker checks of a produced batch without decoding records:
    /// integrity, and for data batches `lastOffsetDelta + 1 == record count` (no gaps).
    public func validate() throws(KafkaCodecError) {
        try validateIntegrity()
        if !attributes.isControl && recordCount > 0 && Int64(lastOffsetDelta) + 1 != Int64(recordCount) {
            throw .corrupt("lastOffsetDelta \(lastOffsetDelta) + 1 != record count \(recordCount)")
        }
    }

    /// Sets the base offset (outside the CRC, so the checksum stays valid).
    public mutating func setBaseOffset(_ offset: Int64) {
        bytes.setInteger(offset, at: bytes.readerIndex)
    }

    /// Sets the partition leader epoch (outside the CRC as well).
    public mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        bytes.setInteger(epoch, at: bytes.readerIndex + 12)
    }

    /// Switches the batch to LogAppendTime with the broker's clock, as Kafka does for topics with
    /// `message.timestamp.type=LogAppendTime`; the CRC is recomputed because both fields are under it.
    public mutating func setLogAppendTime(_ timestamp: Int64) {
        var attributes = self.attributes
        attributes.timestampType = .logAppendTime
        bytes.setInteger(attributes.rawValue, at: bytes.readerIndex + RecordBatch.attributesOffset)
        bytes.setInteger(timestamp, at: bytes.readerIndex + 35)
        bytes.setInteger(computeChecksum(), at: bytes.readerIndex + RecordBatch.crcOffset)
    }

    /// Replaces the producer fields and the attributes (a producer re-sending someone else's
    /// batch as its own); the CRC is recomputed because all of them are under it.
    public mutating func setProducer(id: Int64, epoch: Int16, baseSequence: Int32, attributes: RecordBatchAttributes) {
        bytes.setInteger(attributes.rawValue, at: bytes.readerIndex + RecordBatch.attributesOffset)
        bytes.setInteger(id, at: bytes.readerIndex + 43)
        bytes.setInteger(epoch, at: bytes.readerIndex + 51)
        bytes.setInteger(baseSequence, at: bytes.readerIndex + 53)
        bytes.setInteger(computeChecksum(), at: bytes.readerIndex + RecordBatch.crcOffset)
    }

    /// The records, decompressed and decoded.
    public func decodeRecords(decompressionLimit: Int = CompressionCodec.defaultDecompressionLimit) throws(KafkaCodecError) -> [Record] {
        var body = bytes.getSlice(at: bytes.readerIndex + RecordBatch.headerSize, length: bytes.readableBytes - RecordBatch.headerSize)!
        guard let codec = attributes.compression else { throw .corrupt("unknown compression codec") }
        if codec != .none {
            body = try codec.decompress(body, limit: decompressionLimit)
        }
        let count = Int(recordCount)
        // The smallest record is 7 bytes (length, attributes, two deltas, null key, null value, 0 headers).
        guard count >= 0, count <= body.readableBytes / 7 else {
            throw .invalidLength(field: "record count", length: Int64(count))
        }
        var records: [Record] = []
        // The count is the sender's claim: reserve a little, and let real records grow the array.
        records.reserveCapacity(min(count, 1024))
        for _ in 0..<count {
            records.append(try Record(from: &body))
        }
        guard body.readableBytes == 0 else { throw .corrupt("\(body.readableBytes) bytes after the last record") }
        return records
    }
}
