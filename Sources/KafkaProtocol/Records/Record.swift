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

    func encode(into buffer: inout ByteBuffer) {
        buffer.writeVarint(Int32(bodySize))
        buffer.writeInteger(attributes)
        buffer.writeVarlong(timestampDelta)
        buffer.writeVarint(offsetDelta)
        Self.writeField(key, into: &buffer)
        Self.writeField(value, into: &buffer)
        buffer.writeVarint(Int32(headers.count))
        for header in headers {
            buffer.writeVarint(Int32(header.key.utf8.count))
            buffer.writeString(header.key)
            Self.writeField(header.value, into: &buffer)
        }
    }

    private static func writeField(_ field: ByteBuffer?, into buffer: inout ByteBuffer) {
        guard var field else {
            buffer.writeVarint(-1)
            return
        }
        buffer.writeVarint(Int32(field.readableBytes))
        buffer.writeBuffer(&field)
    }

    /// Decodes one record, including its length prefix.
    init(from buffer: inout ByteBuffer) throws(KafkaCodecError) {
        let length = Int(try buffer.readVarint("record length"))
        guard length >= 0, length <= buffer.readableBytes, var body = buffer.readSlice(length: length) else {
            throw .invalidLength(field: "record length", length: Int64(length))
        }
        attributes = try body.readKafkaInteger("record attributes")
        timestampDelta = try body.readVarlong("timestampDelta")
        offsetDelta = try body.readVarint("offsetDelta")
        key = try Self.readField(&body, "record key")
        value = try Self.readField(&body, "record value")
        let headerCount = Int(try body.readVarint("header count"))
        guard headerCount >= 0, headerCount <= body.readableBytes / 2 else {
            throw .invalidLength(field: "header count", length: Int64(headerCount))
        }
        headers = []
        headers.reserveCapacity(headerCount)
        for _ in 0..<headerCount {
            let keyLength = Int(try body.readVarint("header key length"))
            guard keyLength >= 0, keyLength <= body.readableBytes, let headerKey = body.readString(length: keyLength) else {
                throw .invalidLength(field: "header key", length: Int64(keyLength))
            }
            headers.append(RecordHeader(key: headerKey, value: try Self.readField(&body, "header value")))
        }
        guard body.readableBytes == 0 else {
            throw .corrupt("record has \(body.readableBytes) bytes past its last header")
        }
    }

    private static func readField(_ buffer: inout ByteBuffer, _ field: StaticString) throws(KafkaCodecError) -> ByteBuffer? {
        let length = Int(try buffer.readVarint(field))
        if length == -1 { return nil }
        guard length >= 0, length <= buffer.readableBytes, let slice = buffer.readSlice(length: length) else {
            throw .invalidLength(field: "\(field)", length: Int64(length))
        }
        return slice
    }
}
