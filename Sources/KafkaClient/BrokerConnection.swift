import KafkaProtocol
import KafkaSecurity
import NIOCore
import NIOPosix
import NIOSSL

/// One TCP connection to one broker, with pipelined requests (see `ResponseRouter`) and the API
/// versions negotiated when it opened.
///
/// The channel pipeline is built in one place (`connect`): TLS below the frames, and a SASL
/// login right after the versions are known, before the connection is handed out.
public final class BrokerConnection: Sendable {
    public let address: BrokerAddress
    /// The broker's node id, or nil for a bootstrap connection made before metadata was known.
    public let nodeId: Int32?
    let channel: Channel
    let versions: ApiVersionTable
    private let requestTimeout: TimeAmount

    private init(address: BrokerAddress, nodeId: Int32?, channel: Channel, versions: ApiVersionTable, requestTimeout: TimeAmount) {
        self.address = address
        self.nodeId = nodeId
        self.channel = channel
        self.versions = versions
        self.requestTimeout = requestTimeout
    }

    public var isActive: Bool { channel.isActive }

    /// Connects and negotiates API versions (KIP-511: a broker that does not know our
    /// ApiVersions version answers with the versions it knows, and we ask again with one of them).
    public static func connect(to address: BrokerAddress, nodeId: Int32?, config: KafkaClientConfig,
                               group: EventLoopGroup) async throws(KafkaClientError) -> BrokerConnection {
        let broker = address.description
        let channel: Channel
        let tls = config.security.tls
        // SNI and hostname checks take a name; for an IP address NIOSSL checks the certificate's
        // IP subject alternative names against the peer address instead.
        let serverHostname = (try? SocketAddress(ipAddress: address.host, port: 0)) != nil ? nil : address.host
        let handshake = group.any().makePromise(of: Void.self)
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(config.connectTimeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.socketOption(.so_keepalive), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandlers([try NIOSSLClientHandler(context: tls, serverHostname: serverHostname),
                                                                             TLSHandshakeWatcher(promise: handshake)])
                        } else {
                            handshake.succeed(())
                        }
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(KafkaFrameHandler(decoder: KafkaFrameDecoder(maximumFrameSize: config.maximumResponseSize))),
                            ResponseRouter(clientId: config.clientId, broker: broker),
                        ])
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            handshake.succeed(())
            throw .connectionFailed(broker: broker, reason: SocketErrorText.describe(error))
        }
        do {
            try await handshake.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw TLSHandshakeWatcher.failure(error, broker: broker) ?? .connectionClosed(broker: broker)
        }
        do throws(KafkaClientError) {
            var version = ApiVersionsRequest.supportedVersions.upperBound
            for _ in 0..<2 {
                let request = ApiVersionsRequest(clientSoftwareName: "strait", clientSoftwareVersion: "0.1")
                let frame: ByteBuffer
                do {
                    frame = try await write(channel: channel, broker: broker, apiKey: .apiVersions, version: version, body: try encode(request, version), timeout: config.requestTimeout).get()
                } catch {
                    let failure = (error as? KafkaClientError) ?? .connectionClosed(broker: broker)
                    // With TLS 1.3 a broker refuses a missing client certificate only after the
                    // client's side of the handshake is done; its alert is often lost in the reset.
                    if tls != nil, case .connectionClosed = failure {
                        throw .authenticationFailed(broker: broker, reason: "TLS handshake refused: the broker closed the connection right after it "
                                                    + "(a broker with ssl.client.auth=required does so when no client certificate is sent)")
                    }
                    throw failure
                }
                let response: ApiVersionsResponse
                do {
                    response = try ApiVersionsResponse.decode(from: frame, requestVersion: version)
                } catch {
                    throw .codec("ApiVersions from \(broker): \(error)")
                }
                if response.errorCode == ErrorCode.unsupportedVersion.rawValue,
                   let theirs = response.apiKeys.first(where: { $0.apiKey == ApiKey.apiVersions.rawValue }), theirs.maxVersion < version {
                    version = theirs.maxVersion
                    continue
                }
                try KafkaClientError.check(response.errorCode, "ApiVersions from \(broker)")
                let connection = BrokerConnection(address: address, nodeId: nodeId, channel: channel, versions: ApiVersionTable(response),
                                                  requestTimeout: config.requestTimeout)
                if let credentials = config.security.sasl { try await connection.authenticate(credentials) }
                return connection
            }
            throw .unsupportedVersion(broker: broker, api: "ApiVersions")
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// The version this connection uses for `key`.
    public func version(_ key: ApiKey) throws(KafkaClientError) -> Int16 {
        guard let version = versions.version(key) else { throw .unsupportedVersion(broker: address.description, api: key.name) }
        return version
    }

    private func version(_ requested: Int16?, for key: ApiKey) throws(KafkaClientError) -> Int16 {
        if let requested { return requested }
        return try version(key)
    }

    /// Sends a request at the negotiated version (or `version`, when the caller needs a
    /// particular one) and decodes the answer. `timeout` replaces `request.timeout.ms` for
    /// requests the broker holds on purpose (JoinGroup waits for the whole rebalance).
    public func send<Request: KafkaRequest>(_ request: Request, version: Int16? = nil, timeout: TimeAmount? = nil) async throws(KafkaClientError) -> Request.Response {
        try await start(request, version: version, timeout: timeout).response()
    }

    /// An answer on its way: requests started one after the other by one task reach the broker
    /// in that order, which the idempotent producer relies on while several are in flight.
    public struct PendingResponse<Response: KafkaResponse>: Sendable {
        let frame: EventLoopFuture<ByteBuffer>
        let version: Int16
        let broker: String

        public func response() async throws(KafkaClientError) -> Response {
            let bytes: ByteBuffer
            do {
                bytes = try await frame.get()
            } catch {
                throw (error as? KafkaClientError) ?? .connectionClosed(broker: broker)
            }
            return try BrokerConnection.decode(Response.self, bytes, version: version, broker: broker)
        }
    }

    /// Writes the request now and returns the answer to come.
    public func start<Request: KafkaRequest>(_ request: Request, version: Int16? = nil, timeout: TimeAmount? = nil) throws(KafkaClientError) -> PendingResponse<Request.Response> {
        let version = try self.version(version, for: Request.apiKey)
        let frame = Self.write(channel: channel, broker: address.description, apiKey: Request.apiKey, version: version, body: try Self.encode(request, version), timeout: timeout ?? requestTimeout)
        return PendingResponse(frame: frame, version: version, broker: address.description)
    }

    /// Sends a request the broker does not answer (Produce with acks=0); returns once written.
    public func sendWithoutResponse<Request: KafkaRequest>(_ request: Request, version: Int16? = nil) async throws(KafkaClientError) {
        let version = try self.version(version, for: Request.apiKey)
        let outbound = OutboundRequest(apiKey: Request.apiKey.rawValue, apiVersion: version, body: try Self.encode(request, version),
                                       response: nil, timeout: requestTimeout)
        do {
            try await channel.writeAndFlush(outbound).get()
        } catch {
            throw (error as? KafkaClientError) ?? .connectionClosed(broker: address.description)
        }
    }

    public func close() {
        channel.close(promise: nil)
    }

    private static func encode<Request: KafkaRequest>(_ request: Request, _ version: Int16) throws(KafkaClientError) -> ByteBuffer {
        do {
            return try request.encoded(version: version)
        } catch {
            throw .invalidArgument("cannot encode \(Request.apiKey.name) v\(version): \(error)")
        }
    }

    fileprivate static func decode<Response: KafkaResponse>(_ type: Response.Type, _ frame: ByteBuffer, version: Int16, broker: String) throws(KafkaClientError) -> Response {
        var body = frame
        do {
            if ResponseHeader.version(apiKey: Response.apiKey.rawValue, apiVersion: version) >= 1 {
                _ = try body.readTaggedFieldSection()
            }
            return try Response.decodeLenient(from: body, version: version)
        } catch {
            throw .codec("\(Response.apiKey.name) v\(version) from \(broker): \(error)")
        }
    }

    private static func write(channel: Channel, broker: String, apiKey: ApiKey, version: Int16, body: ByteBuffer, timeout: TimeAmount) -> EventLoopFuture<ByteBuffer> {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        // A channel that closed after it was picked has no router left to fail the answer: the
        // failed write must, or the caller waits forever (a second failure is ignored).
        channel.writeAndFlush(OutboundRequest(apiKey: apiKey.rawValue, apiVersion: version, body: body, response: promise, timeout: timeout))
            .whenFailure { error in promise.fail((error as? KafkaClientError) ?? .connectionClosed(broker: broker)) }
        return promise.futureResult
    }

    /// The SASL login (KIP-152): SaslHandshake names the mechanism, then SaslAuthenticate
    /// carries its tokens. A SCRAM login also checks the broker's proof that it knows the user.
    private func authenticate(_ credentials: SaslCredentials) async throws(KafkaClientError) {
        let broker = address.description
        let handshake = try await send(SaslHandshakeRequest(mechanism: credentials.mechanism.name), version: min(try version(.saslHandshake), 1))
        if handshake.errorCode == ErrorCode.unsupportedSaslMechanism.rawValue {
            throw .authenticationFailed(broker: broker, reason: "the broker does not offer \(credentials.mechanism.name) (it offers \(handshake.mechanisms.joined(separator: ", ")))")
        }
        try KafkaClientError.check(handshake.errorCode, "SaslHandshake with \(broker)")
        func exchange(_ token: [UInt8]) async throws(KafkaClientError) -> [UInt8] {
            let response = try await send(SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: token)))
            if response.errorCode != 0 {
                let code = ErrorCode(rawValue: response.errorCode)?.kafkaName ?? "error \(response.errorCode)"
                throw .authenticationFailed(broker: broker, reason: "\(code): \(response.errorMessage ?? "no message")")
            }
            return Array(buffer: response.authBytes)
        }
        switch credentials.mechanism {
        case .plain:
            _ = try await exchange(SaslPlain(user: credentials.user, password: credentials.password).token)
        case .scram(let mechanism):
            var scram = ScramClientExchange(mechanism: mechanism, user: credentials.user, password: credentials.password)
            let challenge = try await exchange(scram.firstMessage())
            let proof: [UInt8]
            do {
                proof = try scram.finalMessage(answering: challenge)
            } catch {
                throw .authenticationFailed(broker: broker, reason: error.description)
            }
            let final = try await exchange(proof)
            do {
                try scram.verify(serverFinal: final)
            } catch {
                throw .authenticationFailed(broker: broker, reason: error.description)
            }
        }
    }
}
