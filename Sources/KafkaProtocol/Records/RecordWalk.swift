import NIOCore

/// The records of one batch read in order without decoding them into values: how the broker
/// checks a produced batch's framing (as Kafka's LogValidator does) and reads the keys or
/// timestamps it needs, at a bounded cost in memory whatever the batch claims.
///
/// A plain batch is walked in place. A compressed one is decompressed through a window of
/// `RecordWalk.windowSize` bytes taken from a shared pool, so a batch that expands to hundreds of
/// megabytes is checked holding 64 KiB; the decompressed total is still bounded by the limit.
public struct RecordWalk {
    /// What the walk reports of each record.
    public struct Entry {
        public var offsetDelta: Int32
        public var timestampDelta: Int64
        /// The key's bytes when the walk was asked for keys (a copy for compressed batches).
        public var key: ByteBuffer?
        public var hasKey: Bool
        public var hasValue: Bool
    }

    public static let windowSize = 64 * 1024
    private static let pool = BufferPool(bufferSize: windowSize, keep: 32)

    /// Holds the bytes being walked: the whole payload of a plain batch, or the latest piece of
    /// a compressed one. `bytes` points into it and is taken again after every refill.
    private var window: ByteBuffer
    private var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    private var position = 0
    /// Record bytes in the windows before this one.
    private var windowStart = 0
    private let stream: DecompressionStream?
    private let keepKeys: Bool
    private let consecutiveOffsets: Bool
    private let recordCount: Int
    private var index = 0

    /// Calls `body` for every record of `view` in order, checking each record's framing, that
    /// exactly `recordCount` records fill the batch and, with `consecutiveOffsets` (a produced
    /// batch; compaction leaves gaps in stored ones), that offset deltas run 0, 1, 2...
    /// `body` returns false to stop early (the rest is then left unchecked).
    public static func forEachRecord(in view: RecordBatchView, keys: Bool = false, consecutiveOffsets: Bool = true,
                                     decompressionLimit: Int = CompressionCodec.defaultDecompressionLimit,
                                     _ body: (Entry) throws(KafkaCodecError) -> Bool) throws(KafkaCodecError) {
        let bytes = view.bytes
        let payload = bytes.getSlice(at: bytes.readerIndex + RecordBatch.headerSize, length: bytes.readableBytes - RecordBatch.headerSize)!
        guard let codec = view.attributes.compression else { throw .corrupt("unknown compression codec \(view.attributes.rawValue & 7)") }
        guard view.recordCount >= 0 else { throw .invalidLength(field: "record count", length: Int64(view.recordCount)) }
        if codec == .none {
            var walk = RecordWalk(window: payload, stream: nil, keepKeys: keys, consecutiveOffsets: consecutiveOffsets, recordCount: Int(view.recordCount))
            try walk.run(body)
            return
        }
        var window = pool.take()
        defer { pool.give(window) }
        let stream = try DecompressionStream(codec: codec, input: payload, limit: decompressionLimit)
        var walk = RecordWalk(window: window, stream: stream, keepKeys: keys, consecutiveOffsets: consecutiveOffsets, recordCount: Int(view.recordCount))
        window = ByteBuffer()
        defer { window = walk.window }
        try walk.run(body)
    }

    private init(window: ByteBuffer, stream: DecompressionStream?, keepKeys: Bool, consecutiveOffsets: Bool, recordCount: Int) {
        self.window = window
        self.stream = stream
        self.keepKeys = keepKeys
        self.consecutiveOffsets = consecutiveOffsets
        self.recordCount = recordCount
        if stream != nil {
            self.window.clear()
        } else {
            bytes = self.window.withUnsafeReadableBytes { $0 }
        }
    }

    private var consumed: Int { windowStart + position }

    private mutating func run(_ body: (Entry) throws(KafkaCodecError) -> Bool) throws(KafkaCodecError) {
        while index < recordCount {
            let entry = try next()
            index += 1
            guard try body(entry) else { return }
        }
        guard try isAtEnd() else { throw .corrupt("bytes after the last of \(recordCount) records") }
    }

    private mutating func next() throws(KafkaCodecError) -> Entry {
        let length = Int(try varint("record length"))
        guard length > 0 else { throw .invalidLength(field: "record length", length: Int64(length)) }
        let end = consumed + length
        _ = try byte("record attributes")
        let timestampDelta = try varlong("timestampDelta")
        let offsetDelta = try varint("offsetDelta")
        guard !consecutiveOffsets || Int(offsetDelta) == index else { throw .corrupt("record \(index) has offset delta \(offsetDelta)") }
        var key: ByteBuffer?
        let keyLength = try fieldLength("record key", end: end)
        if let keyLength {
            if keepKeys { key = try slice(keyLength, "record key") } else { try skip(keyLength, "record key") }
        }
        let valueLength = try fieldLength("record value", end: end)
        if let valueLength { try skip(valueLength, "record value") }
        let headerCount = Int(try varint("header count"))
        guard headerCount >= 0, headerCount <= (end - consumed) / 2 else {
            throw .invalidLength(field: "header count", length: Int64(headerCount))
        }
        for _ in 0..<headerCount {
            guard let keyLength = try fieldLength("header key", end: end) else { throw .unexpectedNull(field: "header key") }
            try skip(keyLength, "header key")
            if let valueLength = try fieldLength("header value", end: end) { try skip(valueLength, "header value") }
        }
        guard consumed == end else { throw .corrupt("record \(index) is \(length) bytes long but its fields take \(length + consumed - end)") }
        return Entry(offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, hasKey: keyLength != nil, hasValue: valueLength != nil)
    }

    /// A varint length (-1 for null) that must fit before the record's end.
    @inline(__always)
    private mutating func fieldLength(_ field: StaticString, end: Int) throws(KafkaCodecError) -> Int? {
        let length = Int(try varint(field))
        if length == -1 { return nil }
        guard length >= 0, length <= end - consumed else { throw .invalidLength(field: "\(field)", length: Int64(length)) }
        return length
    }

    // MARK: bytes through the window

    // `bytes` is used outside `withUnsafeReadableBytes`: `window` keeps the storage alive and is
    // not touched between one refill and the next, and a plain batch's window never changes.
    // This is the per-record cost of every produced batch, so bytes are read with raw loads.

    /// Refills the window from the stream; false when there is nothing left.
    private mutating func refill() throws(KafkaCodecError) -> Bool {
        guard let stream else { return false }
        windowStart += bytes.count
        position = 0
        window.clear()
        var failure: KafkaCodecError?
        let count = window.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { target in
            do throws(KafkaCodecError) { return try stream.read(into: target) } catch { failure = error; return 0 }
        }
        bytes = window.withUnsafeReadableBytes { $0 }
        if let failure { throw failure }
        return count > 0
    }

    private mutating func isAtEnd() throws(KafkaCodecError) -> Bool {
        if position < bytes.count { return false }
        return try !refill()
    }

    @inline(__always)
    private mutating func byte(_ field: StaticString) throws(KafkaCodecError) -> UInt8 {
        if position == bytes.count, try !refill() { throw .truncated(field: "\(field)") }
        defer { position += 1 }
        return bytes.load(fromByteOffset: position, as: UInt8.self)
    }

    private mutating func skip(_ count: Int, _ field: StaticString) throws(KafkaCodecError) {
        var left = count
        while left > bytes.count - position {
            left -= bytes.count - position
            position = bytes.count
            if try !refill() { throw .truncated(field: "\(field)") }
        }
        position += left
    }

    private mutating func slice(_ count: Int, _ field: StaticString) throws(KafkaCodecError) -> ByteBuffer {
        if stream == nil {
            guard count <= bytes.count - position else { throw .truncated(field: "\(field)") }
            defer { position += count }
            return window.getSlice(at: window.readerIndex + position, length: count)!
        }
        var copy = ByteBuffer()
        copy.reserveCapacity(min(count, Self.windowSize))
        var left = count
        while left > 0 {
            if position == bytes.count, try !refill() { throw .truncated(field: "\(field)") }
            let step = min(left, bytes.count - position)
            copy.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + step)]))
            position += step
            left -= step
        }
        return copy
    }

    @inline(__always)
    private mutating func varint(_ field: StaticString) throws(KafkaCodecError) -> Int32 {
        Int32(truncatingIfNeeded: try zigzag(field, lastShift: 28, lastByteMax: 0x0F))
    }

    @inline(__always)
    private mutating func varlong(_ field: StaticString) throws(KafkaCodecError) -> Int64 {
        Int64(bitPattern: try zigzag(field, lastShift: 63, lastByteMax: 0x01))
    }

    /// Kafka's zigzag varints: at most 5 (VARINT) or 10 (VARLONG) bytes, the last holding only
    /// the bits that still fit. Most are one byte, and most windows hold the longest varint
    /// whole: that path loads without checking the window per byte.
    @inline(__always)
    private mutating func zigzag(_ field: StaticString, lastShift: UInt64, lastByteMax: UInt8) throws(KafkaCodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        if bytes.count - position >= 10 {
            var at = position
            while true {
                let next = bytes.load(fromByteOffset: at, as: UInt8.self)
                at += 1
                if shift == lastShift && next > lastByteMax { throw .malformedVarint }
                result |= UInt64(next & 0x7F) << shift
                if next & 0x80 == 0 {
                    position = at
                    return (result >> 1) ^ (0 &- (result & 1))
                }
                shift += 7
            }
        }
        while true {
            let next = try byte(field)
            if shift == lastShift && next > lastByteMax { throw .malformedVarint }
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return (result >> 1) ^ (0 &- (result & 1)) }
            shift += 7
        }
    }
}
