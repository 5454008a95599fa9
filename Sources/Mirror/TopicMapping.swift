import KafkaProtocol

/// A replicated source topic: its name on the target, partition count and id on the source,
/// and the largest batch the target topic takes.
public struct TopicMapping: Sendable, Equatable {
    public var sourceTopic: String
    public var targetTopic: String
    public var partitions: Int
    public var sourceTopicId: KafkaUUID
    public var maxMessageBytes: Int
}
