import NIOCore

/// One replication flow, `source->target`, with its settings resolved (`A->B.<key>`, then the
/// top-level key, then the default).
public struct FlowSettings: Sendable {
    public enum DataLossPolicy: String, Sendable {
        /// Stop copying the partition until an operator acts.
        case stop
        /// Go on from the oldest record still there, after the alarm.
        case skip
    }

    public var source: String
    public var target: String
    public var topics: NameFilter
    public var groups: NameFilter
    public var policy: any ReplicationPolicy
    public var configPropertiesExclude: NameFilter
    public var syncTopicConfigs: Bool
    public var syncTopicConfigsInterval: TimeAmount
    /// `sync.topic.acls.enabled` and its interval (MM2's defaults: on, every 10 minutes).
    public var syncTopicAcls: Bool
    public var syncTopicAclsInterval: TimeAmount
    public var refreshTopics: Bool
    public var refreshTopicsInterval: TimeAmount
    public var refreshGroups: Bool
    public var refreshGroupsInterval: TimeAmount
    public var emitHeartbeats: Bool
    public var emitHeartbeatsInterval: TimeAmount
    public var emitCheckpoints: Bool
    public var emitCheckpointsInterval: TimeAmount
    public var syncGroupOffsets: Bool
    public var syncGroupOffsetsInterval: TimeAmount
    public var emitOffsetSyncs: Bool
    public var offsetSyncsOnTarget: Bool
    public var replicationFactor: Int16
    public var offsetStorageReplicationFactor: Int16
    public var offsetSyncsReplicationFactor: Int16
    public var checkpointsReplicationFactor: Int16
    public var heartbeatsReplicationFactor: Int16
    public var pollTimeout: TimeAmount
    public var offsetFlushInterval: TimeAmount
    public var dataLossPolicy: DataLossPolicy
    /// The work group's timeouts: Kafka Connect's worker settings `session.timeout.ms`,
    /// `heartbeat.interval.ms` and `rebalance.timeout.ms`, with Connect's defaults.
    public var workGroupSessionTimeout: TimeAmount
    public var workGroupHeartbeatInterval: TimeAmount
    public var workGroupRebalanceTimeout: TimeAmount
    /// Client settings of this flow's source consumer and target producer (the clusters' own,
    /// then `A->B.consumer.*` and `A->B.producer.*`).
    public var consumer: [String: String]
    public var producer: [String: String]

    public var name: String { "\(source)->\(target)" }

    /// Where the flow's progress lives on the target (Kafka Connect's offset storage topic of
    /// MirrorMaker 2's dedicated mode).
    public var offsetsTopic: String { "mm2-offsets.\(source).internal" }

    /// The group on the target through which agents running this flow share its partitions.
    public var workGroup: String { "strait-mirror.\(source)->\(target)" }

    /// MirrorMaker 2's rule for which source topics a flow copies: selected by the filter (or a
    /// heartbeats topic), not internal, and not already from the target.
    public func replicates(_ topic: String) -> Bool {
        (topics.matches(topic) || policy.isHeartbeatsTopic(topic)) && !policy.isInternalTopic(topic) && !policy.isCycle(topic, target: target)
    }
}
