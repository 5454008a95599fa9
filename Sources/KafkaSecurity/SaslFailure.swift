/// Why a SASL login could not go on, in one line (never holding the password).
public struct SaslFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
