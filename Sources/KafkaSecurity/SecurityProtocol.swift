/// Kafka's `security.protocol` values: whether a connection is encrypted and whether it
/// authenticates with SASL.
public enum SecurityProtocol: String, Sendable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSSL = "SASL_SSL"

    /// Accepts Kafka's names in any case, as Kafka's own parsing does.
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }

    public var usesTLS: Bool { self == .ssl || self == .saslSSL }
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSSL }
}
