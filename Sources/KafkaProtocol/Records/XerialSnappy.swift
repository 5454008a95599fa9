import CKafkaShims
import NIOCore

/// Snappy as Kafka carries it.
///
/// Java's producer (snappy-java) and librdkafka write the "xerial" framing: a 16-byte header
/// (`0x82 "SNAPPY" 0x00`, INT32 version 1, INT32 compatible version 1) followed by blocks, each an
/// INT32 big-endian length and a raw snappy block of at most 32 KiB of input. Some clients send a
/// bare raw snappy block instead; reading accepts both (in the C decompression stream).
enum XerialSnappy {
    static let magic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let blockSize = 32 * 1024
    static let codec = Int32(CompressionCodec.snappy.rawValue)

    static func compress(_ input: ByteBuffer, allocator: ByteBufferAllocator) throws(KafkaCodecError) -> ByteBuffer {
        try CompressionCodec.snappy.checkAvailable()
        var output = allocator.buffer(capacity: 16 + strait_codec_bound(codec, input.readableBytes) + 4 * (input.readableBytes / blockSize + 1))
        output.writeBytes(magic)
        output.writeInteger(Int32(1))
        output.writeInteger(Int32(1))
        var rest = input
        while rest.readableBytes > 0 {
            let chunk = rest.readSlice(length: min(blockSize, rest.readableBytes))!
            let bound = strait_codec_bound(codec, chunk.readableBytes)
            let lengthIndex = output.writerIndex
            output.writeInteger(Int32(0))
            let written = chunk.withUnsafeReadableBytes { source in
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                    strait_codec_compress(codec, -1, source.baseAddress, source.count, target.baseAddress, target.count)
                }
            }
            guard written > 0 else { throw .corrupt("snappy compression failed") }
            output.setInteger(Int32(written), at: lengthIndex)
        }
        return output
    }
}
