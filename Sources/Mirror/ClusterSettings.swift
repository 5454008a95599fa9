import KafkaClient

/// One cluster of `mm2.properties` (`<alias>.bootstrap.servers` and the client settings under
/// `<alias>.`, `<alias>.consumer.`, `<alias>.producer.` and `<alias>.admin.`).
public struct ClusterSettings: Sendable {
    public var alias: String
    public var client: KafkaClientConfig
    public var consumer: [String: String]
    public var producer: [String: String]
    public var admin: [String: String]
    /// Strait's own `<alias>.embedded.data.dir`: this daemon runs the cluster itself, as one
    /// embedded broker listening on the first bootstrap address and keeping its log there.
    public var embeddedDataDirectory: String?
}
