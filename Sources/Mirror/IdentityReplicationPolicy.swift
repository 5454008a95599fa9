/// MirrorMaker 2's identity policy: topics keep their names (for migrations and aggregation).
/// Names no longer tell where a topic came from, so cycles are stopped per record by the
/// `strait.origin` header instead (see `RecordOrigin`). Heartbeats keep the default naming,
/// as in MM2, so topology can still be traced.
public struct IdentityReplicationPolicy: ReplicationPolicy {
    private let heartbeatNaming: DefaultReplicationPolicy

    public init(separator: String = ".", separatorInInternalTopics: Bool = true) {
        heartbeatNaming = DefaultReplicationPolicy(separator: separator, separatorInInternalTopics: separatorInInternalTopics)
    }

    public var internalSeparator: String { heartbeatNaming.internalSeparator }

    public func formatRemoteTopic(sourceAlias: String, topic: String) -> String {
        heartbeatNaming.isHeartbeatsTopic(topic) ? heartbeatNaming.formatRemoteTopic(sourceAlias: sourceAlias, topic: topic) : topic
    }

    public func topicSource(_ topic: String) -> String? {
        heartbeatNaming.isHeartbeatsTopic(topic) ? heartbeatNaming.topicSource(topic) : nil
    }

    public func upstreamTopic(_ topic: String) -> String? {
        heartbeatNaming.isHeartbeatsTopic(topic) ? heartbeatNaming.upstreamTopic(topic) : nil
    }
}
