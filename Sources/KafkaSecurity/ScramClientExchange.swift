/// The client's side of one SCRAM login (RFC 5802), as the Kafka client runs it after
/// SaslHandshake: first message, proof, then a check of the server's signature, so a server that
/// does not know the password cannot pose as the cluster.
public struct ScramClientExchange: Sendable {
    public let mechanism: ScramMechanism
    private let user: String
    private let password: String
    private let clientNonce: String
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8] = []

    public init(mechanism: ScramMechanism, user: String, password: String) {
        self.init(mechanism: mechanism, user: user, password: password, nonce: ScramMessage.nonce())
    }

    /// With a chosen nonce, so RFC 7677's worked example can be replayed.
    init(mechanism: ScramMechanism, user: String, password: String, nonce: String) {
        self.mechanism = mechanism
        self.user = user
        self.password = password
        clientNonce = nonce
    }

    public mutating func firstMessage() -> [UInt8] {
        clientFirstBare = "n=\(ScramMessage.escape(user)),r=\(clientNonce)"
        return Array("n,,\(clientFirstBare)".utf8)
    }

    /// The proof answering the server's challenge, or a one-line reason it cannot be answered.
    public mutating func finalMessage(answering challenge: [UInt8]) throws(SaslFailure) -> [UInt8] {
        guard let text = String(validating: challenge, as: UTF8.self), let attributes = ScramMessage.attributes(Substring(text)),
              let nonce = attributes["r"], nonce.hasPrefix(clientNonce), let saltText = attributes["s"],
              let salt = ScramMessage.bytes(base64: saltText), let iterations = attributes["i"].flatMap({ Int($0) }) else {
            throw SaslFailure("invalid SCRAM challenge from the broker")
        }
        guard iterations >= ScramMechanism.minimumIterations, iterations <= 1_000_000 else {
            throw SaslFailure("the broker asked for \(iterations) SCRAM iterations, outside \(ScramMechanism.minimumIterations)...1000000")
        }
        let salted: [UInt8]
        do {
            salted = try mechanism.saltedPassword(password, salt: salt, iterations: iterations)
        } catch {
            throw SaslFailure("cannot derive the SCRAM key: \(error)")
        }
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(text),\(withoutProof)".utf8)
        let clientKey = mechanism.clientKey(saltedPassword: salted)
        let proof = ScramMechanism.xor(clientKey, mechanism.hmac(key: mechanism.hash(clientKey), authMessage))
        expectedServerSignature = mechanism.hmac(key: mechanism.serverKey(saltedPassword: salted), authMessage)
        return Array("\(withoutProof),p=\(ScramMessage.base64(proof))".utf8)
    }

    /// Checks the server's last message: it must prove the server holds this user's keys.
    public func verify(serverFinal: [UInt8]) throws(SaslFailure) {
        guard let text = String(validating: serverFinal, as: UTF8.self), let attributes = ScramMessage.attributes(Substring(text)) else {
            throw SaslFailure("invalid SCRAM final message from the broker")
        }
        if let error = attributes["e"] { throw SaslFailure("the broker refused the SCRAM login: \(error)") }
        guard let signature = attributes["v"].flatMap({ ScramMessage.bytes(base64: $0) }),
              ConstantTime.equal(signature, expectedServerSignature) else {
            throw SaslFailure("the broker's SCRAM signature does not match: it does not hold this user's credential")
        }
    }
}
