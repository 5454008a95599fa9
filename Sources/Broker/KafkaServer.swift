import KafkaProtocol
import KafkaSecurity
import LogStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One listener of a broker: one task per connection, requests answered one at a time and
/// in order (as Kafka's broker does: a connection's next request is read after the previous
/// response is queued). TLS sits below the frames; SASL is a state the connection passes
/// through before its requests reach the dispatcher.
struct KafkaServer {
    let security: ListenerSecurity
    let scram: ScramCredentialStore
    let limits: ServerLimits
    let dispatcher: RequestDispatcher
    let metrics: BrokerMetrics
    let logger: Logger

    /// An accepted connection, or nil for one refused by the connection limits (already closing).
    struct Connection: Sendable {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let memory: RequestMemoryPool.Account
    }

    typealias Listener = NIOAsyncChannel<Connection?, Never>

    func bind(group: EventLoopGroup) async throws -> Listener {
        let frameDecoder = KafkaFrameDecoder(maximumFrameSize: limits.maximumFrameSize)
        let tls = security.tls
        let listener = security.listener
        let limits = self.limits
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: listener.host.isEmpty ? "0.0.0.0" : listener.host, port: listener.port) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> Connection? in
                    let address = channel.remoteAddress?.ipAddress ?? ""
                    if let refusal = limits.connections.admit(address) {
                        logger.info("refusing connection", metadata: ["peer": "\(address)", "reason": "\(refusal)"])
                        channel.close(promise: nil)
                        return nil
                    }
                    channel.closeFuture.whenComplete { _ in limits.connections.release(address) }
                    let memory = RequestMemoryPool.Account(pool: limits.memory)
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(IdleStateHandler(allTimeout: limits.idleTimeout))
                    try handlers.addHandler(IdleConnectionCloser())
                    if let tls { try handlers.addHandler(NIOSSLServerHandler(context: tls)) }
                    try handlers.addHandler(RequestMemoryGate(account: memory, maximumFrameSize: limits.maximumFrameSize))
                    try handlers.addHandler(ByteToMessageHandler(KafkaFrameHandler(decoder: frameDecoder)))
                    return Connection(channel: try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), memory: memory)
                }
            }
    }

    /// Serves connections until the listener closes, then cancels the open ones.
    func serve(_ listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    guard let connection else { continue }
                    group.addTask { await self.serve(connection) }
                }
            }
            group.cancelAll()
        }
    }

    /// Writes bytes and file ranges in order; file ranges go out with sendfile, or on a TLS
    /// listener (where bytes must pass through the encryption) are read first. The descriptors
    /// are closed once the last part is written.
    private static func write(_ parts: [ResponsePart], to channel: Channel, sendfile: Bool) async throws {
        var handles: [NIOFileHandle] = []
        defer { for handle in handles { try? handle.close() } }
        var last: EventLoopFuture<Void>?
        for (index, part) in parts.enumerated() {
            let data: IOData
            switch part {
            case .bytes(let buffer):
                data = .byteBuffer(buffer)
            case .file(let slice) where !sendfile:
                data = .byteBuffer(ByteBuffer(bytes: try slice.read()))
            case .file(let slice):
                // FileRegion is NIO's only route to sendfile and takes a NIOFileHandle.
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: slice.takeDescriptor())
                handles.append(handle)
                data = .fileRegion(FileRegion(fileHandle: handle, readerIndex: slice.position, endIndex: slice.position + slice.length))
            }
            last = index == parts.count - 1 ? channel.writeAndFlush(data) : channel.write(data)
        }
        try await last?.get()
    }

    private func serve(_ accepted: Connection) async {
        let connection = accepted.channel
        let peer = connection.channel.remoteAddress?.description ?? "unknown"
        let host = connection.channel.remoteAddress?.ipAddress.map { "/" + $0 } ?? ""
        metrics.connection(opened: true)
        defer { metrics.connection(opened: false) }
        var sasl = security.listener.securityProtocol.usesSASL ? SaslSession(security: security, scram: scram) : nil
        var principal: String?
        do {
            let channel = connection.channel
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    await limits.permits.acquire()
                    defer {
                        limits.permits.release()
                        accepted.memory.answered(frame.readableBytes + 4)
                    }
                    metrics.request(frame.readableBytes, apiKey: frame.getInteger(at: frame.readerIndex, as: Int16.self))
                    if principal == nil {
                        principal = try await Self.certificatePrincipal(of: channel, tls: security.tls != nil)
                    }
                    var outcome: RequestDispatcher.Outcome?
                    if let session = sasl, !session.isAuthenticated {
                        outcome = sasl!.intercept(frame)
                        if let failure = sasl!.failure {
                            logger.info("failed authentication", metadata: ["peer": "\(peer)", "listener": "\(security.listener.name)", "reason": "\(failure)"])
                        }
                        if let authenticated = sasl!.principal {
                            principal = authenticated
                            logger.debug("authenticated", metadata: ["peer": "\(peer)", "principal": "\(authenticated)"])
                        }
                    }
                    if outcome == nil {
                        outcome = await dispatcher.process(frame, clientHost: host, listenerName: security.listener.name,
                                                           principal: principal ?? RequestContext.anonymous, permits: limits.permits)
                    }
                    // Responses go straight to the channel, and the next request is read only once
                    // the previous response is written: order is kept and slow readers push back.
                    switch outcome! {
                    case .respond(let response):
                        metrics.response(response.readableBytes)
                        try await channel.writeAndFlush(response).get()
                        // As Kafka does: the client hears why its login failed, then the
                        // connection closes (a moment later, so that a client reading the
                        // answer is not cut short by the close).
                        if sasl?.failure != nil {
                            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
                        }
                    case .respondParts(let parts):
                        metrics.response(parts.reduce(0) { $0 + $1.length })
                        try await Self.write(parts, to: channel, sendfile: security.tls == nil)
                    case .noResponse:
                        continue
                    case .close(let reason):
                        logger.info("closing connection", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
                        return
                    }
                }
            }
        } catch is CancellationError {
            return
        } catch NIOSSLError.uncleanShutdown {
            // Clients often close without TLS's close_notify; nothing was lost.
            logger.debug("TLS connection closed without close_notify", metadata: ["peer": "\(peer)"])
        } catch let error as NIOSSLError {
            logger.info("TLS connection failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        } catch {
            logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// `User:` and the client certificate's subject on a TLS listener whose client sent one,
    /// else `User:ANONYMOUS` (the handshake is over once a frame has arrived).
    private static func certificatePrincipal(of channel: Channel, tls: Bool) async throws -> String {
        guard tls, let certificate = try await channel.nioSSL_peerCertificate().get() else { return RequestContext.anonymous }
        return CertificatePrincipal.name(of: certificate) ?? RequestContext.anonymous
    }
}
