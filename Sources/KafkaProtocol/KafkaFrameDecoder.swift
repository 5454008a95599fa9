import NIOCore

/// Splits a byte stream into Kafka frames (an INT32 size, then that many bytes).
///
/// Sans-io: feed it whatever arrived; it hands back complete frames and keeps the rest. A size
/// outside `0...maximumFrameSize` (Kafka's `socket.request.max.bytes`) is an error before any
/// byte of the frame is buffered, so a forged size cannot make it allocate.
public struct KafkaFrameDecoder: Sendable {
    public var maximumFrameSize: Int

    public init(maximumFrameSize: Int = 100 * 1024 * 1024) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// Returns the next complete frame's body, or nil when more bytes are needed.
    public func nextFrame(from buffer: inout ByteBuffer) throws(KafkaCodecError) -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard size >= 0, Int(size) <= maximumFrameSize else {
            throw .frameTooLarge(size: Int64(size), limit: maximumFrameSize)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }
}
