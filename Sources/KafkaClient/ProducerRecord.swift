import KafkaProtocol
import NIOCore

/// A record to produce. Without a partition the partitioner chooses one (see `Partitioner`);
/// without a timestamp the producer's clock is used (CreateTime).
public struct ProducerRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    public var timestamp: Int64?

    public init(topic: String, partition: Int32? = nil, key: ByteBuffer? = nil, value: ByteBuffer?, headers: [RecordHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// Where a produced record landed. `offset` is -1 with acks=0, which gets no answer.
public struct RecordMetadata: Sendable, Equatable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    /// The broker's time for LogAppendTime topics, else the record's own timestamp.
    public var timestamp: Int64
}
