import KafkaSecurity
import NIOCore

/// What every client (producer, consumer, admin) needs to reach a cluster. Defaults are
/// Kafka's Java client defaults unless noted.
public struct KafkaClientConfig: Sendable {
    public var bootstrapServers: [BrokerAddress]
    public var clientId: String
    /// `request.timeout.ms`: a request without an answer by then fails and its connection is
    /// closed (responses on a connection come in order, so one lost answer stalls the rest).
    public var requestTimeout: TimeAmount = .seconds(30)
    /// `socket.connection.setup.timeout.ms`.
    public var connectTimeout: TimeAmount = .seconds(10)
    /// `metadata.max.age.ms`: metadata is refreshed at least this often.
    public var metadataMaxAge: TimeAmount = .minutes(5)
    /// `reconnect.backoff.ms` and `reconnect.backoff.max.ms`: exponential, with jitter.
    public var reconnectBackoff: TimeAmount = .milliseconds(50)
    public var reconnectBackoffMax: TimeAmount = .seconds(1)
    /// `retry.backoff.ms`: the pause before retrying a request that failed retriably.
    public var retryBackoff: TimeAmount = .milliseconds(100)
    /// Largest response frame accepted (a guard against a corrupt size prefix).
    public var maximumResponseSize = 512 * 1024 * 1024
    /// `security.protocol` with its TLS and SASL settings.
    public var security = ClientSecurity()

    public init(bootstrapServers: [BrokerAddress], clientId: String = "strait") {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
    }

    public init(bootstrap: String, clientId: String = "strait", security: ClientSecurity = ClientSecurity()) throws(KafkaClientError) {
        self.init(bootstrapServers: try BrokerAddress.list(bootstrap), clientId: clientId)
        self.security = security
    }

    /// The delay before reconnect attempt `attempt` (0-based): doubling from
    /// `reconnectBackoff` up to `reconnectBackoffMax`, with ±20% jitter as Kafka's client does.
    func reconnectDelay(attempt: Int) -> TimeAmount {
        let base = Double(reconnectBackoff.nanoseconds) * pow2(min(attempt, 20))
        let capped = min(base, Double(reconnectBackoffMax.nanoseconds))
        return .nanoseconds(Int64(capped * Double.random(in: 0.8...1.2)))
    }

    private func pow2(_ exponent: Int) -> Double { Double(1 << exponent) }
}
