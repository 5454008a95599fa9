import KafkaProtocol

/// A replicated source topic: its name on the target, partition counts and id on the source,
/// and the largest batch the target topic takes.
public struct TopicMapping: Sendable, Equatable {
    public var sourceTopic: String
    public var targetTopic: String
    public var partitions: Int
    /// Partitions of the target topic: fewer than the source's when adding partitions failed
    /// (some brokers cannot), and then the extra source partitions cannot be copied.
    public var targetPartitions: Int
    public var sourceTopicId: KafkaUUID
    public var maxMessageBytes: Int
}
