import CKafkaShims
import NIOCore

/// The compression of a record batch: bits 0–2 of its attributes.
///
/// gzip comes from the linked zlib; snappy, lz4 and zstd from their shared libraries, bound at
/// first use (docs/compression.md). Snappy is written in the xerial framing that Java and
/// librdkafka produce, and read in both that framing and raw.
public enum CompressionCodec: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    public var description: String {
        switch self {
        case .none: return "none"
        case .gzip: return "gzip"
        case .snappy: return "snappy"
        case .lz4: return "lz4"
        case .zstd: return "zstd"
        }
    }

    /// Kafka's `compression.type` names.
    public init?(name: String) {
        guard let codec = Self.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = codec
    }

    /// Decompressed data may not exceed this unless the caller says otherwise: a batch cannot
    /// legitimately expand past Kafka's largest message size by more than its compression ratio.
    public static let defaultDecompressionLimit = 256 * 1024 * 1024

    /// Throws `compressionUnavailable` naming the missing library when the codec cannot be used.
    public func checkAvailable() throws(KafkaCodecError) {
        guard self != .none else { return }
        if strait_codec_load(Int32(rawValue)) != 0 {
            throw .compressionUnavailable("\(self) compression unavailable: " + String(cString: strait_codec_error(Int32(rawValue))))
        }
    }

    public func compress(_ input: ByteBuffer, level: Int32 = -1, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) -> ByteBuffer {
        switch self {
        case .none:
            return input
        case .snappy:
            return try XerialSnappy.compress(input, allocator: allocator)
        case .gzip, .lz4, .zstd:
            return try Self.rawCompress(Int32(rawValue), input, level: level, allocator: allocator)
        }
    }

    /// The whole decompressed body, at most `limit` bytes.
    public func decompress(_ input: ByteBuffer, limit: Int = CompressionCodec.defaultDecompressionLimit) throws(KafkaCodecError) -> ByteBuffer {
        guard self != .none else { return input }
        return try DecompressionStream(codec: self, input: input, limit: limit).readAll()
    }

    static func rawCompress(_ codec: Int32, _ input: ByteBuffer, level: Int32, allocator: ByteBufferAllocator) throws(KafkaCodecError) -> ByteBuffer {
        try CompressionCodec(rawValue: Int16(codec))!.checkAvailable()
        let bound = strait_codec_bound(codec, input.readableBytes)
        var output = allocator.buffer(capacity: bound)
        let written = input.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                strait_codec_compress(codec, level, source.baseAddress, source.count, target.baseAddress, target.count)
            }
        }
        guard written > 0 || input.readableBytes == 0 && codec == Int32(CompressionCodec.snappy.rawValue) else {
            throw .corrupt("compression with codec \(codec) failed")
        }
        return output
    }
}
