/// The server's side of one SCRAM login (RFC 5802): the client's first message in, the
/// server's challenge out; the client's proof in, the server's signature out.
///
/// Unknown users and wrong passwords fail the same way, so a client cannot probe for names.
public struct ScramServerExchange: Sendable {
    public enum Step: Sendable, Equatable {
        case challenge([UInt8])
        case authenticated(user: String, finalMessage: [UInt8])
        case failed(String)
    }

    public let mechanism: ScramMechanism
    private let lookup: @Sendable (String) -> ScramCredential?
    private var state: State = .awaitingClientFirst

    private enum State: Sendable {
        case awaitingClientFirst
        case awaitingClientFinal(user: String, credential: ScramCredential?, clientFirstBare: Substring, serverFirst: String, nonce: String)
        case done
    }

    public init(mechanism: ScramMechanism, lookup: @escaping @Sendable (String) -> ScramCredential?) {
        self.mechanism = mechanism
        self.lookup = lookup
    }

    private var invalidCredentials: Step {
        .failed("Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism.rawValue)")
    }

    public mutating func evaluate(_ token: [UInt8]) -> Step {
        guard let text = String(validating: token, as: UTF8.self) else { return fail("SCRAM message is not UTF-8") }
        switch state {
        case .awaitingClientFirst:
            return receiveClientFirst(Substring(text))
        case .awaitingClientFinal(let user, let credential, let clientFirstBare, let serverFirst, let nonce):
            return receiveClientFinal(Substring(text), user: user, credential: credential, clientFirstBare: clientFirstBare,
                                      serverFirst: serverFirst, nonce: nonce)
        case .done:
            return fail("SCRAM exchange already finished")
        }
    }

    private mutating func fail(_ message: String) -> Step {
        state = .done
        return .failed(message)
    }

    private mutating func receiveClientFirst(_ text: Substring) -> Step {
        // gs2-header: channel binding flag ("n" or "y"; "p" asks for binding Kafka does not
        // offer), optional authzid, then the bare message.
        let parts = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "y" else { return fail("Invalid SCRAM client first message") }
        let bare = parts[2]
        guard let attributes = ScramMessage.attributes(bare), let escapedUser = attributes["n"], let clientNonce = attributes["r"],
              !clientNonce.isEmpty, let user = ScramMessage.unescape(escapedUser) else {
            return fail("Invalid SCRAM client first message")
        }
        if !parts[1].isEmpty {
            guard parts[1].hasPrefix("a="), ScramMessage.unescape(parts[1].dropFirst(2)) == user else {
                return fail("Authentication failed: Client requested an authorization id that is different from username")
            }
        }
        let credential = lookup(user).flatMap { $0.mechanism == mechanism ? $0 : nil }
        // An unknown user gets a challenge like any other (with a salt derived from nothing
        // secret), and fails only at the proof.
        let salt = credential?.salt ?? mechanism.hash(Array("strait-unknown-user:\(user)".utf8)).prefix(16).map { $0 }
        let iterations = credential?.iterations ?? ScramMechanism.minimumIterations
        let nonce = String(clientNonce) + ScramMessage.nonce()
        let serverFirst = "r=\(nonce),s=\(ScramMessage.base64(salt)),i=\(iterations)"
        state = .awaitingClientFinal(user: user, credential: credential, clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce)
        return .challenge(Array(serverFirst.utf8))
    }

    private mutating func receiveClientFinal(_ text: Substring, user: String, credential: ScramCredential?, clientFirstBare: Substring,
                                             serverFirst: String, nonce: String) -> Step {
        guard let proofStart = text.range(of: ",p=") else { return fail("Invalid SCRAM client final message") }
        let withoutProof = text[..<proofStart.lowerBound]
        // librdkafka before 2.6.1 sends its own nonce again in front of the combined one
        // (librdkafka#4895); Kafka 3.x brokers accept that, so clients such as kcat 2.0 can log in.
        let clientNonce = ScramMessage.attributes(clientFirstBare)?["r"].map(String.init) ?? ""
        guard let attributes = ScramMessage.attributes(withoutProof),
              let echoed = attributes["r"].map(String.init), echoed == nonce || echoed == clientNonce + nonce,
              let proof = ScramMessage.bytes(base64: text[proofStart.upperBound...]) else {
            return fail("Invalid SCRAM client final message")
        }
        guard let credential, proof.count == credential.storedKey.count else { state = .done; return invalidCredentials }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = mechanism.hmac(key: credential.storedKey, authMessage)
        let clientKey = ScramMechanism.xor(proof, clientSignature)
        guard ConstantTime.equal(mechanism.hash(clientKey), credential.storedKey) else { state = .done; return invalidCredentials }
        let serverSignature = mechanism.hmac(key: credential.serverKey, authMessage)
        state = .done
        return .authenticated(user: user, finalMessage: Array("v=\(ScramMessage.base64(serverSignature))".utf8))
    }
}
