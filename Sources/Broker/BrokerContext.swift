import KafkaSecurity
import KafkaProtocol
import LogStore

/// What every request handler shares: the broker's identity, its topics, and the signal that
/// new data was appended (for long-polling fetches).
public final class BrokerContext: Sendable {
    public let config: BrokerConfig
    public let clusterId: String
    public let registry: TopicRegistry
    public let appends: AppendNotifier

    public init(config: BrokerConfig, clusterId: String, registry: TopicRegistry) {
        self.config = config
        self.clusterId = clusterId
        self.registry = registry
        appends = AppendNotifier()
    }

    public var nodeId: Int32 { config.nodeId }

    /// Wall-clock milliseconds, the broker's notion of "now" for timestamps and retention.
    public func nowMs() -> Int64 {
        WallClock.nowMs()
    }

    /// Creates a topic because a client named it, when `auto.create.topics.enable` allows and
    /// the client may create it (CREATE on the cluster or the topic).
    func autoCreate(_ name: String, context: RequestContext) -> TopicRegistry.Topic? {
        try? autoCreating(name, context: context)?.get()
    }

    /// The topic, auto-created if the broker and the ACLs allow it; nil when auto-creation does
    /// not apply, and the creation's error (a partition limit, say) when it failed.
    func autoCreating(_ name: String, context: RequestContext) -> Result<TopicRegistry.Topic, KafkaError>? {
        guard registry.brokerProperty("auto.create.topics.enable")?.value == "true", TopicName.problem(with: name) == nil,
              context.allowsCluster(.create) || context.allows(.create, .topic, name) else { return nil }
        do {
            try registry.create(name: name, partitions: -1, configs: [:], validateOnly: false, nowMs: nowMs())
        } catch where error.code != .topicAlreadyExists {
            return .failure(error)
        } catch {}
        return registry.topic(named: name).map { .success($0) }
    }
}
