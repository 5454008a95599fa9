import KafkaProtocol
import KafkaSecurity
import NIOCore

/// One connection's SASL login on a SASL listener (Kafka's SaslServerAuthenticator): until it
/// succeeds the connection may send ApiVersions, SaslHandshake and SaslAuthenticate only.
/// After SaslHandshake v0 the client sends raw tokens in size-prefixed frames, without headers.
struct SaslSession {
    private let security: ListenerSecurity
    private let scram: ScramCredentialStore
    private var state: State = .awaitingHandshake
    /// `User:NAME` once authenticated.
    private(set) var principal: String?
    /// Why the login failed, once it has (for the broker's log; never holds a password).
    private(set) var failure: String?

    private enum Exchange {
        case plain
        case scram(ScramServerExchange)
    }

    private enum State {
        case awaitingHandshake
        case awaitingAuthenticate(Exchange, mechanism: String, rawTokens: Bool)
        case authenticated
        case failed
    }

    init(security: ListenerSecurity, scram: ScramCredentialStore) {
        self.security = security
        self.scram = scram
    }

    var isAuthenticated: Bool { principal != nil }

    /// The answer to a frame that arrived before authentication, or nil when the frame is an
    /// ApiVersions request that the dispatcher answers as usual.
    mutating func intercept(_ frame: ByteBuffer) -> RequestDispatcher.Outcome? {
        if case .awaitingAuthenticate(let exchange, let mechanism, true) = state {
            let step = evaluate(exchange, mechanism: mechanism, rawTokens: true, token: Array(buffer: frame))
            return rawAnswer(step)
        }
        var buffer = frame
        guard let apiKey = buffer.getInteger(at: buffer.readerIndex, as: Int16.self).flatMap(ApiKey.init(rawValue:)),
              let version = buffer.getInteger(at: buffer.readerIndex + 2, as: Int16.self) else {
            return .close("malformed request before SASL authentication")
        }
        if apiKey == .apiVersions { return nil }
        if case .failed = state { return .close("request after a failed SASL authentication") }
        let header: RequestHeader
        do {
            header = try RequestHeader(from: &buffer)
        } catch {
            return .close("malformed request header: \(error)")
        }
        switch (apiKey, state) {
        case (.saslHandshake, .awaitingHandshake) where SaslHandshakeRequest.supportedVersions.contains(version):
            guard let request = try? SaslHandshakeRequest.decodeLenient(from: buffer, version: version) else {
                return .close("malformed SaslHandshake request")
            }
            let mechanism = request.mechanism.uppercased()
            var response = SaslHandshakeResponse(errorCode: 0, mechanisms: security.mechanisms)
            if security.mechanisms.contains(mechanism), let exchange = exchange(for: mechanism) {
                state = .awaitingAuthenticate(exchange, mechanism: mechanism, rawTokens: version == 0)
            } else {
                response.errorCode = ErrorCode.unsupportedSaslMechanism.rawValue
                failure = "unsupported SASL mechanism \(mechanism)"
                state = .failed
            }
            return RequestDispatcher.frame(response, correlationId: header.correlationId, apiKey: apiKey.rawValue, version: version)
        case (.saslAuthenticate, .awaitingAuthenticate(let exchange, let mechanism, false)) where SaslAuthenticateRequest.supportedVersions.contains(version):
            guard let request = try? SaslAuthenticateRequest.decodeLenient(from: buffer, version: version) else {
                return .close("malformed SaslAuthenticate request")
            }
            let step = evaluate(exchange, mechanism: mechanism, rawTokens: false, token: Array(buffer: request.authBytes))
            var response = SaslAuthenticateResponse(errorCode: 0, errorMessage: nil, authBytes: ByteBuffer(), sessionLifetimeMs: 0)
            switch step {
            case .challenge(let bytes):
                response.authBytes = ByteBuffer(bytes: bytes)
            case .authenticated(_, let bytes):
                response.authBytes = ByteBuffer(bytes: bytes)
            case .failed(let message):
                response.errorCode = ErrorCode.saslAuthenticationFailed.rawValue
                response.errorMessage = message
            }
            return RequestDispatcher.frame(response, correlationId: header.correlationId, apiKey: apiKey.rawValue, version: version)
        default:
            state = .failed
            return .close("unexpected \(apiKey.name) request before SASL authentication")
        }
    }

    private func exchange(for mechanism: String) -> Exchange? {
        if mechanism == "PLAIN" { return .plain }
        guard let scramMechanism = ScramMechanism(name: mechanism) else { return nil }
        let store = scram
        return .scram(ScramServerExchange(mechanism: scramMechanism) { user in store.credential(user: user, mechanism: scramMechanism) })
    }

    /// Runs one step of the exchange and moves the session on: authenticated, failed, or
    /// waiting for the next token in the same framing (raw after SaslHandshake v0).
    private mutating func evaluate(_ exchange: Exchange, mechanism: String, rawTokens: Bool, token: [UInt8]) -> ScramServerExchange.Step {
        let step: ScramServerExchange.Step
        var next = exchange
        switch exchange {
        case .plain:
            if let plain = SaslPlain(token: token), plain.authorizationId.isEmpty || plain.authorizationId == plain.user,
               let expected = security.plainUsers[plain.user], ConstantTime.equal(Array(expected.utf8), Array(plain.password.utf8)) {
                step = .authenticated(user: plain.user, finalMessage: [])
            } else {
                step = .failed("Authentication failed: Invalid username or password")
            }
        case .scram(var scramExchange):
            step = scramExchange.evaluate(token)
            next = .scram(scramExchange)
        }
        switch step {
        case .authenticated(let user, _):
            principal = "User:" + user
            state = .authenticated
        case .failed(let message):
            failure = message
            state = .failed
        case .challenge:
            state = .awaitingAuthenticate(next, mechanism: mechanism, rawTokens: rawTokens)
        }
        return step
    }

    private func rawAnswer(_ step: ScramServerExchange.Step) -> RequestDispatcher.Outcome {
        switch step {
        case .challenge(let bytes), .authenticated(_, let bytes):
            var buffer = ByteBuffer()
            buffer.writeInteger(Int32(bytes.count))
            buffer.writeBytes(bytes)
            return .respond(buffer)
        case .failed(let message):
            return .close(message)
        }
    }
}
