import NIOCore

/// One record inside a RecordBatch v2 (kafka.apache.org/documentation, "Record").
///
/// Layout: length VARINT (of what follows), attributes INT8 (unused, 0), timestampDelta VARLONG,
/// offsetDelta VARINT, key length VARINT (-1 null) and bytes, value length VARINT (-1 null) and
/// bytes, header count VARINT, then headers: key length VARINT + UTF-8, value length VARINT
/// (-1 null) + bytes. Deltas are relative to the batch's base timestamp and base offset.
public struct Record: Equatable, Sendable {
    public var attributes: Int8
    public var timestampDelta: Int64
    public var offsetDelta: Int32
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(attributes: Int8 = 0, timestampDelta: Int64 = 0, offsetDelta: Int32, key: ByteBuffer? = nil, value: ByteBuffer?, headers: [RecordHeader] = []) {
        self.attributes = attributes
        self.timestampDelta = timestampDelta
        self.offsetDelta = offsetDelta
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Size of the record body (everything after the length prefix).
    var bodySize: Int {
        var size = 1 + ByteBuffer.varlongSize(timestampDelta) + ByteBuffer.varintSize(offsetDelta)
        size += Self.fieldSize(key?.readableBytes) + Self.fieldSize(value?.readableBytes)
        size += ByteBuffer.varintSize(Int32(headers.count))
        for header in headers {
            size += Self.fieldSize(header.key.utf8.count) + Self.fieldSize(header.value?.readableBytes)
        }
        return size
    }

    private static func fieldSize(_ length: Int?) -> Int {
        guard let length else { return 1 }
        return ByteBuffer.varintSize(Int32(length)) + length
    }

    /// Writes the record (length prefix included) with one reservation and raw stores: this is
    /// the producer's per-record cost, and ByteBuffer's per-call checks would dominate it.
    func encode(into buffer: inout ByteBuffer) {
        let body = bodySize
        let total = ByteBuffer.varintSize(Int32(body)) + body
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            var out = RawRecordWriter(base: raw.baseAddress!)
            out.varint(Int64(body))
            out.byte(UInt8(bitPattern: attributes))
            out.varint(timestampDelta)
            out.varint(Int64(offsetDelta))
            out.field(key)
            out.field(value)
            out.varint(Int64(headers.count))
            for header in headers {
                out.varint(Int64(header.key.utf8.count))
                var name = header.key
                name.withUTF8 { out.copy(UnsafeRawBufferPointer($0)) }
                out.field(header.value)
            }
            return out.written
        }
    }

    /// Decodes one record, including its length prefix. The fields are located with raw loads
    /// (the consumer's per-record cost); key, value and header values are slices of `buffer`.
    init(from buffer: inout ByteBuffer) throws(KafkaCodecError) {
        let start = buffer.readerIndex
        let parsed: Result<RawRecordLayout, KafkaCodecError> = buffer.withUnsafeReadableBytes { raw in
            var reader = RawRecordReader(bytes: raw)
            return Result { () throws(KafkaCodecError) -> RawRecordLayout in try reader.layout() }
        }
        let layout = try parsed.get()
        func slice(_ range: (Int, Int)?) -> ByteBuffer? {
            range.map { buffer.getSlice(at: start + $0.0, length: $0.1)! }
        }
        attributes = layout.attributes
        timestampDelta = layout.timestampDelta
        offsetDelta = layout.offsetDelta
        key = slice(layout.key)
        value = slice(layout.value)
        headers = layout.headers.map { RecordHeader(key: $0.key, value: slice($0.value)) }
        buffer.moveReaderIndex(forwardBy: layout.end)
    }
}

/// Where a record's fields are, relative to the start of its length prefix.
private struct RawRecordLayout {
    var attributes: Int8
    var timestampDelta: Int64
    var offsetDelta: Int32
    var key: (Int, Int)?
    var value: (Int, Int)?
    var headers: [(key: String, value: (Int, Int)?)]
    var end: Int
}

/// Reads one record's framing from raw bytes with the same checks as ByteBuffer's readers:
/// lengths within the record, varints of at most 5 (VARINT) or 10 (VARLONG) bytes.
private struct RawRecordReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var limit: Int

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        limit = bytes.count
    }

    mutating func byte(_ field: StaticString) throws(KafkaCodecError) -> UInt8 {
        guard position < limit else { throw .truncated(field: "\(field)") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint(_ field: StaticString) throws(KafkaCodecError) -> Int32 {
        // A varint's value fits 32 bits, and zigzag decoding commutes with dropping the rest.
        Int32(truncatingIfNeeded: try zigzag(field, lastShift: 28, lastByteMax: 0x0F))
    }

    mutating func varlong(_ field: StaticString) throws(KafkaCodecError) -> Int64 {
        Int64(bitPattern: try zigzag(field, lastShift: 63, lastByteMax: 0x01))
    }

    /// Little-endian base-128 groups, then zigzag decoding; the byte at `lastShift` may hold no
    /// more than `lastByteMax` (the bits that still fit), as Kafka checks.
    private mutating func zigzag(_ field: StaticString, lastShift: UInt64, lastByteMax: UInt8) throws(KafkaCodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte(field)
            if shift == lastShift && next > lastByteMax { throw .malformedVarint }
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return (result >> 1) ^ (0 &- (result & 1)) }
            shift += 7
        }
    }

    /// A varint length then that many bytes; nil for -1.
    mutating func field(_ field: StaticString) throws(KafkaCodecError) -> (Int, Int)? {
        let length = Int(try varint(field))
        if length == -1 { return nil }
        guard length >= 0, length <= limit - position else { throw .invalidLength(field: "\(field)", length: Int64(length)) }
        defer { position += length }
        return (position, length)
    }

    mutating func layout() throws(KafkaCodecError) -> RawRecordLayout {
        let length = Int(try varint("record length"))
        guard length >= 0, length <= limit - position else { throw .invalidLength(field: "record length", length: Int64(length)) }
        limit = position + length
        let attributes = Int8(bitPattern: try byte("record attributes"))
        let timestampDelta = try varlong("timestampDelta")
        let offsetDelta = try varint("offsetDelta")
        let key = try field("record key")
        let value = try field("record value")
        let headerCount = Int(try varint("header count"))
        guard headerCount >= 0, headerCount <= (limit - position) / 2 else {
            throw .invalidLength(field: "header count", length: Int64(headerCount))
        }
        var headers: [(key: String, value: (Int, Int)?)] = []
        headers.reserveCapacity(headerCount)
        for _ in 0..<headerCount {
            let keyLength = Int(try varint("header key length"))
            guard keyLength >= 0, keyLength <= limit - position else { throw .invalidLength(field: "header key", length: Int64(keyLength)) }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + keyLength)]), as: UTF8.self)
            position += keyLength
            headers.append((name, try field("header value")))
        }
        guard position == limit else { throw .corrupt("record has \(limit - position) bytes past its last header") }
        return RawRecordLayout(attributes: attributes, timestampDelta: timestampDelta, offsetDelta: offsetDelta, key: key, value: value,
                               headers: headers, end: limit)
    }
}

/// Stores into memory already reserved for a whole record: zigzag varints, bytes, and
/// length-prefixed fields (-1 for null), as `Record` lays them out.
private struct RawRecordWriter {
    let base: UnsafeMutableRawPointer
    var written = 0

    mutating func byte(_ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: written, as: UInt8.self)
        written += 1
    }

    mutating func varint(_ value: Int64) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        (base + written).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        written += bytes.count
    }

    mutating func field(_ bytes: ByteBuffer?) {
        guard let bytes else { return varint(-1) }
        varint(Int64(bytes.readableBytes))
        bytes.withUnsafeReadableBytes { copy($0) }
    }
}
