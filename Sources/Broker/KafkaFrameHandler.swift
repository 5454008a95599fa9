import KafkaProtocol
import NIOCore

/// The NIO decoder that cuts the TCP stream into request frames (sizes above
/// `socket.request.max.bytes` close the connection, as Kafka does).
struct KafkaFrameHandler: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let decoder: KafkaFrameDecoder

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decoder.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        .needMoreData
    }
}
