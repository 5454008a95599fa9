import KafkaProtocol
import LogStore
import Logging
import NIOCore
import NIOPosix

/// The TCP listener of a broker: one task per connection, requests answered one at a time and
/// in order (as Kafka's broker does: a connection's next request is read after the previous
/// response is queued).
struct KafkaServer {
    let host: String
    let port: Int
    let maximumFrameSize: Int
    let dispatcher: RequestDispatcher
    let metrics: BrokerMetrics
    let logger: Logger

    typealias Listener = NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    func bind(group: EventLoopGroup) async throws -> Listener {
        let frameDecoder = KafkaFrameDecoder(maximumFrameSize: maximumFrameSize)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameHandler(decoder: frameDecoder)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Serves connections until the listener closes, then cancels the open ones.
    func serve(_ listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
            group.cancelAll()
        }
    }

    /// Writes bytes and file ranges in order; file ranges go out with sendfile. The descriptors
    /// are closed once the last part is written.
    private static func write(_ parts: [ResponsePart], to channel: Channel) async throws {
        var handles: [NIOFileHandle] = []
        defer { for handle in handles { try? handle.close() } }
        var last: EventLoopFuture<Void>?
        for (index, part) in parts.enumerated() {
            let data: IOData
            switch part {
            case .bytes(let buffer):
                data = .byteBuffer(buffer)
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

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = connection.channel.remoteAddress?.description ?? "unknown"
        let host = connection.channel.remoteAddress?.ipAddress.map { "/" + $0 } ?? ""
        metrics.connection(opened: true)
        defer { metrics.connection(opened: false) }
        do {
            let channel = connection.channel
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    metrics.request(frame.readableBytes, apiKey: frame.getInteger(at: frame.readerIndex, as: Int16.self))
                    // Responses go straight to the channel, and the next request is read only once
                    // the previous response is written: order is kept and slow readers push back.
                    switch await dispatcher.process(frame, clientHost: host) {
                    case .respond(let response):
                        metrics.response(response.readableBytes)
                        try await channel.writeAndFlush(response).get()
                    case .respondParts(let parts):
                        metrics.response(parts.reduce(0) { $0 + $1.length })
                        try await Self.write(parts, to: channel)
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
        } catch {
            logger.debug("connection ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
    }
}
