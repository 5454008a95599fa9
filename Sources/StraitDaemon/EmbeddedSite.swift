import Broker

/// A site this daemon runs itself: one embedded broker, and where its settings were written.
public struct EmbeddedSite: Sendable {
    public var name: String
    public var broker: BrokerConfig
    /// The file position of each setting a start can fail on; the site's name when one is missing.
    public var origins: [BrokerStartError.Setting: ConfigOrigin]
    /// Broker settings Kafka defines that Strait reads but does not act on, one line each.
    public var warnings: [String]

    public init(name: String, broker: BrokerConfig, origins: [BrokerStartError.Setting: ConfigOrigin], warnings: [String] = []) {
        self.name = name
        self.broker = broker
        self.broker.siteName = name
        self.origins = origins
        self.warnings = warnings
    }

    /// One line naming the site, the setting to blame (file, line, key) and the cause.
    func failure(_ error: any Error) -> DaemonFailure {
        if let failure = error as? DaemonFailure { return failure }
        guard let error = error as? BrokerStartError else { return DaemonFailure("site \(name) stopped: \(error)") }
        let reason = "site \(name) cannot start: \(error.reason)"
        return origins[error.setting]?.failure(reason) ?? DaemonFailure(reason)
    }
}
