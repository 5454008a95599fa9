/// MirrorMaker 2's identity policy: topics keep their names (for migrations and aggregation).
/// Names no longer tell where a topic came from, so cycles are stopped per record by the
/// `strait.origin` header instead (see `RecordOrigin`). Topics whose names end in `heartbeats`
/// keep the default naming, as in MM2, so topology can still be traced.
public struct IdentityReplicationPolicy: ReplicationPolicy {
    private let heartbeatNaming: DefaultReplicationPolicy

    public init(separator: String = ".", separatorInInternalTopics: Bool = true) {
        heartbeatNaming = DefaultReplicationPolicy(separator: separator, separatorInInternalTopics: separatorInInternalTopics)
    }

    public var internalSeparator: String { heartbeatNaming.internalSeparator }

    public func formatRemoteTopic(sourceAlias: String, topic: String) -> String {
        looksLikeHeartbeats(topic) ? heartbeatNaming.formatRemoteTopic(sourceAlias: sourceAlias, topic: topic) : topic
    }

    public func topicSource(_ topic: String) -> String? {
        looksLikeHeartbeats(topic) ? heartbeatNaming.topicSource(topic) : nil
    }

    public func upstreamTopic(_ topic: String) -> String? {
        looksLikeHeartbeats(topic) ? heartbeatNaming.upstreamTopic(topic) : nil
    }

    private func looksLikeHeartbeats(_ topic: String) -> Bool {
        topic.hasSuffix(heartbeatsTopic)
    }
}
