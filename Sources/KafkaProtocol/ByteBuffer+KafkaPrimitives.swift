import NIOCore

/// Kafka's primitive types (kafka.apache.org/protocol, "Protocol Primitive Types") over `ByteBuffer`.
///
/// Readers check every length against the readable bytes before slicing or allocating, and
/// report the field being read so a bad frame can be diagnosed.
extension ByteBuffer {
    // MARK: fixed-width

    @inlinable
    public mutating func readKafkaInteger<T: FixedWidthInteger>(_ field: StaticString, as: T.Type = T.self) throws(KafkaCodecError) -> T {
        guard let value = readInteger(as: T.self) else { throw .truncated(field: "\(field)") }
        return value
    }

    @inlinable
    public mutating func readKafkaBool(_ field: StaticString) throws(KafkaCodecError) -> Bool {
        let byte: UInt8 = try readKafkaInteger(field)
        return byte != 0
    }

    @inlinable
    public mutating func readKafkaFloat64(_ field: StaticString) throws(KafkaCodecError) -> Double {
        let bits: UInt64 = try readKafkaInteger(field)
        return Double(bitPattern: bits)
    }

    @inlinable
    public mutating func readKafkaUUID(_ field: StaticString) throws(KafkaCodecError) -> KafkaUUID {
        let high: UInt64 = try readKafkaInteger(field)
        let low: UInt64 = try readKafkaInteger(field)
        return KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
    }

    @inlinable
    public mutating func writeKafkaBool(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    @inlinable
    public mutating func writeKafkaFloat64(_ value: Double) {
        writeInteger(value.bitPattern)
    }

    @inlinable
    public mutating func writeKafkaUUID(_ value: KafkaUUID) {
        writeInteger(value.mostSignificantBits)
        writeInteger(value.leastSignificantBits)
    }

    // MARK: varints

    /// UNSIGNED_VARINT: 7 bits a byte, least significant group first, at most 5 bytes.
    @inlinable
    public mutating func readUnsignedVarint(_ field: StaticString = "varint") throws(KafkaCodecError) -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw .truncated(field: "\(field)") }
            if shift == 28 && byte > 0x0F { throw .malformedVarint }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Unsigned 64-bit varint, at most 10 bytes; the base of VARLONG.
    @inlinable
    public mutating func readUnsignedVarlong(_ field: StaticString = "varlong") throws(KafkaCodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else { throw .truncated(field: "\(field)") }
            if shift == 63 && byte > 0x01 { throw .malformedVarint }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// VARINT: zig-zag encoded signed 32-bit value (record fields).
    @inlinable
    public mutating func readVarint(_ field: StaticString = "varint") throws(KafkaCodecError) -> Int32 {
        let raw = try readUnsignedVarint(field)
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// VARLONG: zig-zag encoded signed 64-bit value (record timestamps and offsets).
    @inlinable
    public mutating func readVarlong(_ field: StaticString = "varlong") throws(KafkaCodecError) -> Int64 {
        let raw = try readUnsignedVarlong(field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt32) {
        var v = value
        while v >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writeInteger(UInt8(v))
    }

    @inlinable
    public mutating func writeUnsignedVarlong(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        writeInteger(UInt8(v))
    }

    @inlinable
    public mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    @inlinable
    public mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Bytes a VARINT takes, for sizing record bodies before writing them.
    @inlinable
    public static func varintSize(_ value: Int32) -> Int {
        unsignedVarintSize(UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31))))
    }

    @inlinable
    public static func varlongSize(_ value: Int64) -> Int {
        unsignedVarintSize(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inlinable
    public static func unsignedVarintSize(_ value: UInt64) -> Int {
        let bits = 64 - value.leadingZeroBitCount
        return Swift.max(1, (bits + 6) / 7)
    }

    // MARK: lengths

    /// Reads a length prefix: INT16 (strings), INT32 (bytes, arrays), or UNSIGNED_VARINT N+1 when
    /// compact. Returns nil for the null marker (-1, or 0 when compact).
    @inlinable
    mutating func readKafkaLength(_ field: StaticString, compact: Bool, shortPrefix: Bool) throws(KafkaCodecError) -> Int? {
        let length: Int
        if compact {
            let raw = try readUnsignedVarint(field)
            if raw == 0 { return nil }
            length = Int(raw) - 1
        } else if shortPrefix {
            let raw: Int16 = try readKafkaInteger(field)
            if raw == -1 { return nil }
            guard raw >= 0 else { throw .invalidLength(field: "\(field)", length: Int64(raw)) }
            length = Int(raw)
        } else {
            let raw: Int32 = try readKafkaInteger(field)
            if raw == -1 { return nil }
            guard raw >= 0 else { throw .invalidLength(field: "\(field)", length: Int64(raw)) }
            length = Int(raw)
        }
        return length
    }

    @inlinable
    mutating func writeKafkaLength(_ length: Int?, compact: Bool, shortPrefix: Bool) {
        if compact {
            writeUnsignedVarint(length.map { UInt32($0 + 1) } ?? 0)
        } else if shortPrefix {
            writeInteger(Int16(length ?? -1))
        } else {
            writeInteger(Int32(length ?? -1))
        }
    }

    // MARK: strings

    @inlinable
    public mutating func readKafkaNullableString(_ field: StaticString, compact: Bool) throws(KafkaCodecError) -> String? {
        guard let length = try readKafkaLength(field, compact: compact, shortPrefix: true) else { return nil }
        guard length <= readableBytes else { throw .invalidLength(field: "\(field)", length: Int64(length)) }
        return readString(length: length)
    }

    @inlinable
    public mutating func readKafkaString(_ field: StaticString, compact: Bool) throws(KafkaCodecError) -> String {
        guard let value = try readKafkaNullableString(field, compact: compact) else { throw .unexpectedNull(field: "\(field)") }
        return value
    }

    @inlinable
    public mutating func writeKafkaString(_ value: String?, compact: Bool) {
        guard let value else {
            writeKafkaLength(nil, compact: compact, shortPrefix: true)
            return
        }
        let utf8Count = value.utf8.count
        writeKafkaLength(utf8Count, compact: compact, shortPrefix: true)
        writeString(value)
    }

    // MARK: bytes

    @inlinable
    public mutating func readKafkaNullableBytes(_ field: StaticString, compact: Bool) throws(KafkaCodecError) -> ByteBuffer? {
        guard let length = try readKafkaLength(field, compact: compact, shortPrefix: false) else { return nil }
        guard length <= readableBytes, let slice = readSlice(length: length) else {
            throw .invalidLength(field: "\(field)", length: Int64(length))
        }
        return slice
    }

    @inlinable
    public mutating func readKafkaBytes(_ field: StaticString, compact: Bool) throws(KafkaCodecError) -> ByteBuffer {
        guard let value = try readKafkaNullableBytes(field, compact: compact) else { throw .unexpectedNull(field: "\(field)") }
        return value
    }

    @inlinable
    public mutating func writeKafkaBytes(_ value: ByteBuffer?, compact: Bool) {
        guard var value else {
            writeKafkaLength(nil, compact: compact, shortPrefix: false)
            return
        }
        writeKafkaLength(value.readableBytes, compact: compact, shortPrefix: false)
        writeBuffer(&value)
    }

    // MARK: arrays

    /// Reads an array's element count, or nil for a null array. `minimumElementSize` bounds the
    /// count by the bytes that remain, so a forged count cannot drive an allocation; a request
    /// being decoded by the broker also spends its `ArrayElementBudget`.
    @inlinable
    public mutating func readKafkaArrayCount(_ field: StaticString, compact: Bool, minimumElementSize: Int) throws(KafkaCodecError) -> Int? {
        guard let count = try readKafkaLength(field, compact: compact, shortPrefix: false) else { return nil }
        guard count <= readableBytes / Swift.max(1, minimumElementSize) else {
            throw .invalidLength(field: "\(field)", length: Int64(count))
        }
        try ArrayElementBudget.spend(count, field: field)
        return count
    }

    @inlinable
    public mutating func writeKafkaArrayCount(_ count: Int?, compact: Bool) {
        writeKafkaLength(count, compact: compact, shortPrefix: false)
    }

    // MARK: tagged fields

    /// Reads one tagged field: its tag, its size and that many bytes.
    @inlinable
    public mutating func readTaggedField() throws(KafkaCodecError) -> TaggedField {
        let tag = try readUnsignedVarint("tag")
        let size = Int(try readUnsignedVarint("tag size"))
        guard size <= readableBytes, let data = readSlice(length: size) else {
            throw .invalidLength(field: "tagged field \(tag)", length: Int64(size))
        }
        return TaggedField(tag: tag, data: data)
    }

    /// Writes a tagged-field section: known fields (already encoded) merged with unknown ones,
    /// in ascending tag order as KIP-482 requires.
    @inlinable
    public mutating func writeTaggedFields(_ known: [TaggedField], unknown: [TaggedField]) {
        if known.isEmpty && unknown.isEmpty {
            writeInteger(UInt8(0))
            return
        }
        let all = (known + unknown).sorted { $0.tag < $1.tag }
        writeUnsignedVarint(UInt32(all.count))
        for var field in all {
            writeUnsignedVarint(field.tag)
            writeUnsignedVarint(UInt32(field.data.readableBytes))
            writeBuffer(&field.data)
        }
    }
}

extension ByteBuffer {
    /// Reads a whole tagged-field section of which no tag is known (headers).
    public mutating func readTaggedFieldSection() throws(KafkaCodecError) -> [TaggedField] {
        let count = try readUnsignedVarint("tagged fields")
        guard count <= readableBytes / 2 else { throw .invalidLength(field: "tagged fields", length: Int64(count)) }
        var fields: [TaggedField] = []
        for _ in 0..<count {
            fields.append(try readTaggedField())
        }
        return fields
    }
}
