import CKafkaShims
import NIOCore

/// A message-set entry in the pre-0.11 formats (magic 0 and 1), read so the mirror can copy data
/// from old clusters.
///
/// Entry layout: offset INT64, message size INT32, then the message: crc UINT32 (CRC-32/IEEE of
/// the rest), magic INT8, attributes INT8 (bits 0–2 codec, bit 3 LogAppendTime in magic 1),
/// timestamp INT64 (magic 1 only), key BYTES, value BYTES. A compressed message's value is a
/// whole inner message set; in magic 1 the inner offsets are relative and the wrapper carries the
/// absolute offset of the last inner message, in magic 0 they are absolute.
public struct LegacyMessage: Sendable {
    public var offset: Int64
    public var magic: Int8
    public var attributes: Int8
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?

    public var compression: CompressionCodec? { CompressionCodec(rawValue: Int16(attributes & 0x07)) }
    public var timestampType: TimestampType { magic >= 1 && attributes & 0x08 != 0 ? .logAppendTime : .createTime }

    /// Decodes one entry (offset, size and message) and checks its CRC.
    public init(entry: ByteBuffer) throws(KafkaCodecError) {
        var buffer = entry
        offset = try buffer.readKafkaInteger("offset")
        let size: Int32 = try buffer.readKafkaInteger("message size")
        guard size >= 14, Int(size) == buffer.readableBytes else { throw .invalidLength(field: "message size", length: Int64(size)) }
        let crc: UInt32 = try buffer.readKafkaInteger("crc")
        let computed = buffer.withUnsafeReadableBytes { raw in
            strait_crc32_ieee(raw.baseAddress, raw.count)
        }
        guard crc == computed else { throw .corrupt("legacy message CRC \(crc) != computed \(computed)") }
        magic = try buffer.readKafkaInteger("magic")
        guard magic == 0 || magic == 1 else { throw .corrupt("legacy message magic \(magic)") }
        attributes = try buffer.readKafkaInteger("attributes")
        timestamp = magic == 1 ? try buffer.readKafkaInteger("timestamp") : -1
        key = try buffer.readKafkaNullableBytes("key", compact: false)
        value = try buffer.readKafkaNullableBytes("value", compact: false)
        guard buffer.readableBytes == 0 else { throw .corrupt("legacy message has trailing bytes") }
    }

    /// The messages this entry stands for: itself, or the decompressed inner messages with
    /// absolute offsets (and, in magic 1 LogAppendTime wrappers, the wrapper's timestamp).
    public func flattened(decompressionLimit: Int = CompressionCodec.defaultDecompressionLimit) throws(KafkaCodecError) -> [LegacyMessage] {
        guard let codec = compression else { throw .corrupt("unknown legacy codec \(attributes & 7)") }
        if codec == .none { return [self] }
        guard let value else { throw .corrupt("compressed legacy message without a value") }
        if codec == .lz4 && magic == 0 {
            // Kafka 0.8–0.9 wrote LZ4 frames with a wrong header checksum (KAFKA-3160); liblz4
            // rejects them. Such data predates 0.10 and is not read.
            throw .corrupt("lz4 in magic 0 messages is not supported")
        }
        let inner = try codec.decompress(value, limit: decompressionLimit)
        let set = try RecordSet(inner)
        var messages: [LegacyMessage] = []
        for entry in set.entries {
            guard case .legacy(let message) = entry else { throw .corrupt("record batch inside a legacy message") }
            messages.append(message)
        }
        guard set.truncatedTailBytes == 0 else { throw .corrupt("partial message inside a compressed legacy message") }
        if magic == 1, let last = messages.last {
            let shift = offset - last.offset
            for index in messages.indices {
                messages[index].offset += shift
                if timestampType == .logAppendTime { messages[index].timestamp = timestamp }
            }
        }
        return messages
    }
}
