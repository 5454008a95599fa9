/// SASL PLAIN's single message (RFC 4616): `authzid NUL authcid NUL password`.
public struct SaslPlain: Sendable, Equatable {
    public var authorizationId: String
    public var user: String
    public var password: String

    public init(authorizationId: String = "", user: String, password: String) {
        self.authorizationId = authorizationId
        self.user = user
        self.password = password
    }

    public init?(token: [UInt8]) {
        let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let authorizationId = String(validating: parts[0], as: UTF8.self),
              let user = String(validating: parts[1], as: UTF8.self), let password = String(validating: parts[2], as: UTF8.self),
              !user.isEmpty, !password.isEmpty else { return nil }
        self.init(authorizationId: authorizationId, user: user, password: password)
    }

    public var token: [UInt8] {
        Array(authorizationId.utf8) + [0] + Array(user.utf8) + [0] + Array(password.utf8)
    }
}
