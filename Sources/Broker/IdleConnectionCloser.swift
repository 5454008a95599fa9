import NIOCore

/// Closes a connection when `IdleStateHandler` reports it idle both ways for
/// `connections.max.idle.ms`, as Kafka does: clients reconnect when they next need the broker,
/// and a peer that stopped reading its responses gives back its descriptors and memory.
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
