/// How a topic is named on a target cluster, and how a remote topic's name tells where it came
/// from (MirrorMaker 2's `ReplicationPolicy`). The remote names found here are what stops
/// cycles: a topic whose name says it came from the target is never copied back.
public protocol ReplicationPolicy: Sendable {
    /// The name `topic` of cluster `sourceAlias` gets on the target.
    func formatRemoteTopic(sourceAlias: String, topic: String) -> String
    /// The cluster a remote topic came from, or nil for a topic produced locally.
    func topicSource(_ topic: String) -> String?
    /// The topic's name on the cluster it came from, or nil for a local topic.
    func upstreamTopic(_ topic: String) -> String?
    /// The separator of internal topic names (`<alias>.checkpoints.internal`).
    var internalSeparator: String { get }
}

extension ReplicationPolicy {
    /// The topic's name where it was first produced, following every hop.
    public func originalTopic(_ topic: String) -> String {
        var current = topic
        for _ in 0..<64 {
            guard let upstream = upstreamTopic(current), upstream != current else { return current }
            current = upstream
        }
        return current
    }

    public var heartbeatsTopic: String { "heartbeats" }

    public func checkpointsTopic(_ alias: String) -> String {
        alias + internalSeparator + "checkpoints" + internalSeparator + "internal"
    }

    public func offsetSyncsTopic(_ alias: String) -> String {
        "mm2-offset-syncs" + internalSeparator + alias + internalSeparator + "internal"
    }

    public func isHeartbeatsTopic(_ topic: String) -> Bool {
        originalTopic(topic) == heartbeatsTopic
    }

    /// MirrorMaker 2's rule (its own topics, Kafka's `__` and `.` topics, and anything ending in
    /// `.internal` or `-internal`, which covers Kafka Connect's), never copied.
    public func isInternalTopic(_ topic: String) -> Bool {
        topic.hasPrefix("__") || topic.hasPrefix(".") || topic.hasSuffix(".internal") || topic.hasSuffix("-internal")
            || topic.hasSuffix(internalSeparator + "internal")
    }

    /// Whether the topic, followed hop by hop, already came from `target` (MM2's cycle check).
    public func isCycle(_ topic: String, target: String) -> Bool {
        var current = topic
        for _ in 0..<64 {
            guard let source = topicSource(current) else { return false }
            if source == target { return true }
            guard let upstream = upstreamTopic(current), upstream != current else { return false }
            current = upstream
        }
        return true
    }
}
