import Foundation
import KafkaClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// Reads a running daemon's `/status` for `strait status`: one GET over SwiftNIO's HTTP/1 codec.
public enum StatusClient {
    public static func fetch(host: String, port: Int, timeout: TimeAmount = .seconds(10)) async throws(DaemonFailure) -> StatusDocument {
        let body: ByteBuffer
        do {
            body = try await get(host: host, port: port, path: "/status", timeout: timeout)
        } catch let failure as DaemonFailure {
            throw failure
        } catch {
            throw DaemonFailure("cannot read http://\(host):\(port)/status: \(SocketErrorText.describe(error))")
        }
        do {
            return try JSONDecoder().decode(StatusDocument.self, from: Data(body.readableBytesView))
        } catch {
            throw DaemonFailure("http://\(host):\(port)/status is not a Strait status document: \(error.localizedDescription)")
        }
    }

    private static func get(host: String, port: Int, path: String, timeout: TimeAmount) async throws -> ByteBuffer {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: "\(host):\(port)")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var body = ByteBuffer()
            var status = HTTPResponseStatus.ok
            for try await part in inbound {
                switch part {
                case .head(let response): status = response.status
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end:
                    guard status == .ok else { throw DaemonFailure("http://\(host):\(port)\(path) answered \(status.code) \(status.reasonPhrase)") }
                    return body
                }
            }
            throw DaemonFailure("http://\(host):\(port)\(path): the connection closed before the answer ended")
        }
    }
}
