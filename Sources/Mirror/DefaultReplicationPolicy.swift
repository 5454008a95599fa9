/// MirrorMaker 2's default: `<source alias><separator><topic>`, so `orders` from `east` becomes
/// `east.orders`, and the prefix tells the origin back.
public struct DefaultReplicationPolicy: ReplicationPolicy {
    public let separator: String
    /// `replication.policy.internal.topic.separator.enabled`: internal topic names use the
    /// separator too (MM2's default), or always a dot.
    public let separatorInInternalTopics: Bool

    public init(separator: String = ".", separatorInInternalTopics: Bool = true) {
        self.separator = separator
        self.separatorInInternalTopics = separatorInInternalTopics
    }

    public var internalSeparator: String { separatorInInternalTopics ? separator : "." }

    public func formatRemoteTopic(sourceAlias: String, topic: String) -> String {
        sourceAlias + separator + topic
    }

    public func topicSource(_ topic: String) -> String? {
        guard !separator.isEmpty, let range = topic.range(of: separator), range.lowerBound > topic.startIndex,
              range.upperBound < topic.endIndex else { return nil }
        return String(topic[..<range.lowerBound])
    }

    public func upstreamTopic(_ topic: String) -> String? {
        guard let source = topicSource(topic) else { return nil }
        return String(topic.dropFirst(source.count + separator.count))
    }
}
