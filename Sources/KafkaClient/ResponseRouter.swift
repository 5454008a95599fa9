import KafkaProtocol
import NIOCore
import NIOSSL

/// A request on its way to the broker: the encoded body, and the promise its response frame
/// fulfils (nil for a Produce with acks=0, which gets no response).
struct OutboundRequest {
    var apiKey: Int16
    var apiVersion: Int16
    var body: ByteBuffer
    var response: EventLoopPromise<ByteBuffer>?
    var timeout: TimeAmount
}

/// The channel handler that pipelines requests on one connection: it numbers them with
/// correlation ids, frames them, and hands each response frame (after the correlation id) to
/// the request that is waiting for it. Kafka answers a connection's requests in order, so the
/// waiting requests form a queue and an out-of-order id is a broken connection.
///
/// A request that times out fails, and the connection is closed with every other request on it:
/// its answer may still come, and everything behind it would be mismatched (Kafka's clients
/// do the same).
final class ResponseRouter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var correlationId: Int32
        var apiKey: Int16
        var promise: EventLoopPromise<ByteBuffer>
        var timer: Scheduled<Void>
    }

    private let clientId: String
    private let broker: String
    private var nextCorrelationId: Int32 = 1
    private var waiting = CircularBuffer<Waiting>()
    private var failure: KafkaClientError?

    init(clientId: String, broker: String) {
        self.clientId = clientId
        self.broker = broker
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.response?.fail(failure)
            promise?.fail(failure)
            return
        }
        let correlationId = nextCorrelationId
        nextCorrelationId = nextCorrelationId == .max ? 1 : nextCorrelationId + 1
        var header = context.channel.allocator.buffer(capacity: 32 + clientId.utf8.count)
        header.writeInteger(Int32(0))
        RequestHeader(requestApiKey: request.apiKey, requestApiVersion: request.apiVersion, correlationId: correlationId, clientId: clientId)
            .encode(into: &header, headerVersion: RequestHeader.version(apiKey: request.apiKey, apiVersion: request.apiVersion))
        header.setInteger(Int32(header.readableBytes - 4 + request.body.readableBytes), at: header.readerIndex)
        if let response = request.response {
            let timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) { [weak self] () -> Void in
                self?.timedOut(context: context, correlationId: correlationId, timeout: request.timeout)
            }
            waiting.append(Waiting(correlationId: correlationId, apiKey: request.apiKey, promise: response, timer: timer))
        }
        context.write(wrapOutboundOut(header), promise: nil)
        context.write(wrapOutboundOut(request.body), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        guard let correlationId = frame.readInteger(as: Int32.self), let next = waiting.first, next.correlationId == correlationId else {
            failAll(.codec("response with an unexpected correlation id from \(broker)"))
            context.close(promise: nil)
            return
        }
        waiting.removeFirst()
        next.timer.cancel()
        next.promise.succeed(frame)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed(broker: broker))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(TLSHandshakeWatcher.failure(error, broker: broker) ?? .connectionFailed(broker: broker, reason: SocketErrorText.describe(error)))
        context.close(promise: nil)
    }

    private func timedOut(context: ChannelHandlerContext, correlationId: Int32, timeout: TimeAmount) {
        guard let index = waiting.firstIndex(where: { $0.correlationId == correlationId }) else { return }
        let api = ApiKey(rawValue: waiting[index].apiKey)?.name ?? "API \(waiting[index].apiKey)"
        let error = KafkaClientError.requestTimedOut(broker: broker, api: api, timeoutMs: timeout.nanoseconds / 1_000_000)
        let expired = waiting.remove(at: index)
        expired.promise.fail(error)
        failAll(.connectionClosed(broker: broker))
        context.close(promise: nil)
    }

    private func failAll(_ error: KafkaClientError) {
        if failure == nil { failure = error }
        while let entry = waiting.popFirst() {
            entry.timer.cancel()
            entry.promise.fail(error)
        }
    }
}
