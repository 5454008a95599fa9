import CKafkaShims
import NIOCore

/// A compressed batch body read back in pieces of the caller's size, with the total bounded:
/// a small batch that claims to expand without end fails once it passes `limit`, and nothing
/// larger than the caller's piece (one snappy block at most) is held meanwhile.
final class DecompressionStream {
    let codec: CompressionCodec
    let limit: Int
    private(set) var produced = 0
    /// Keeps the input's storage alive: the C stream reads it in place.
    private let input: ByteBuffer
    private let stream: OpaquePointer

    init(codec: CompressionCodec, input: ByteBuffer, limit: Int) throws(KafkaCodecError) {
        self.codec = codec
        self.limit = limit
        self.input = input
        var status: Int32 = 0
        // The pointer stays valid after the closure: `input` holds the storage and is never mutated.
        let opened = input.withUnsafeReadableBytes { raw in
            strait_dstream_open(Int32(codec.rawValue), raw.baseAddress, raw.count, limit, &status)
        }
        guard let opened else {
            if status == -3 {
                try codec.checkAvailable()
                throw .compressionUnavailable("\(codec) compression unavailable")
            }
            throw status == -2 ? Self.overLimit(limit) : .corrupt("\(codec) data does not decompress")
        }
        stream = opened
    }

    deinit { strait_dstream_close(stream) }

    /// Fills as much of `target` as the data allows; 0 once the data is exhausted.
    func read(into target: UnsafeMutableRawBufferPointer) throws(KafkaCodecError) -> Int {
        let count = strait_dstream_read(stream, target.baseAddress, target.count)
        switch count {
        case 0...:
            produced += count
            guard produced <= limit else { throw Self.overLimit(limit) }
            return count
        case -2:
            throw Self.overLimit(limit)
        default:
            throw .corrupt("\(codec) data does not decompress")
        }
    }

    /// Everything that is left, in one buffer that grows as it fills (no second copy) and never
    /// past `limit`: a last one-byte read tells whether the data goes on beyond it.
    func readAll(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) -> ByteBuffer {
        var output = allocator.buffer(capacity: min(limit, max(4096, input.readableBytes * 4)))
        while true {
            let room = limit - produced
            var failure: KafkaCodecError?
            let count: Int
            if room == 0 {
                var probe: UInt8 = 0
                count = withUnsafeMutableBytes(of: &probe) { target in
                    do throws(KafkaCodecError) { return try read(into: target) } catch { failure = error; return 0 }
                }
            } else {
                count = output.writeWithUnsafeMutableBytes(minimumWritableBytes: min(64 * 1024, room)) { target in
                    do throws(KafkaCodecError) {
                        return try read(into: UnsafeMutableRawBufferPointer(rebasing: target.prefix(room)))
                    } catch {
                        failure = error
                        return 0
                    }
                }
            }
            if let failure { throw failure }
            if count == 0 { return output }
        }
    }

    static func overLimit(_ limit: Int) -> KafkaCodecError {
        .corrupt("decompressed data exceeds \(limit) bytes")
    }
}
