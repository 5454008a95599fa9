import NIOCore

/// The NIO decoder that cuts a TCP stream into frame bodies with `KafkaFrameDecoder`, for the
/// broker (requests; sizes above `socket.request.max.bytes` close the connection, as Kafka does)
/// and the client (responses).
public struct KafkaFrameHandler: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    let decoder: KafkaFrameDecoder

    public init(decoder: KafkaFrameDecoder) {
        self.decoder = decoder
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decoder.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
