import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP endpoint for operators: `GET /metrics` (Prometheus text format) and
/// `GET /status` (JSON), both rendered on demand from the live state.
public final class StatusServer: Sendable {
    public struct Page: Sendable {
        var contentType: String
        var body: @Sendable () -> String
    }

    private let channel: Channel
    /// The port actually bound (useful when 0 was asked for).
    public let port: Int

    public static func start(host: String, port: Int, pages: [String: Page],
                             group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> StatusServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(pages: pages))
                }
            }
            .bind(host: host, port: port).get()
        return StatusServer(channel: channel, port: channel.localAddress?.port ?? port)
    }

    private init(channel: Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Answers each request with the page for its path, 404 otherwise, 405 for anything but GET.
final class StatusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pages: [String: StatusServer.Page]
    private var request: HTTPRequestHead?

    init(pages: [String: StatusServer.Page]) {
        self.pages = pages
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            let path = String(head.uri.prefix { $0 != "?" })
            let (status, type, text): (HTTPResponseStatus, String, String)
            if head.method != .GET {
                (status, type, text) = (.methodNotAllowed, "text/plain", "only GET\n")
            } else if let page = pages[path] {
                (status, type, text) = (.ok, page.contentType, page.body())
            } else {
                (status, type, text) = (.notFound, "text/plain", "try \(pages.keys.sorted().joined(separator: " or "))\n")
            }
            var body = context.channel.allocator.buffer(capacity: text.utf8.count)
            body.writeString(text)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
