import NIOCore
import NIOSSL
import NIOTLS

/// Completes when the TLS handshake does, or fails with why it did not, so a connection reports
/// a certificate problem as such rather than as a closed connection (the handshake's failure and
/// the close reach the request path in either order).
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>
    private var done = false

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { complete(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        complete(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func complete(_ error: Error?) {
        guard !done else { return }
        done = true
        if let error { promise.fail(error) } else { promise.succeed(()) }
    }

    /// What a TLS failure means to the caller: not retriable, since reconnecting with the same
    /// certificates cannot help. Nil for errors that are not TLS's.
    static func failure(_ error: Error, broker: String) -> KafkaClientError? {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return .authenticationFailed(broker: broker, reason: "TLS handshake failed: the broker's certificate does not name the address "
                                         + "connected to (ssl.endpoint.identification.algorithm= turns the check off)")
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return .authenticationFailed(broker: broker, reason: "TLS handshake failed: \(error)")
        }
        return nil
    }
}
