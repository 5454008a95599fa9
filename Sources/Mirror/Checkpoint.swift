import KafkaProtocol
import NIOCore

/// MirrorMaker 2's checkpoint record (topic `<source>.checkpoints.internal` on the target): key
/// `group` STRING, `topic` STRING, `partition` INT32; value a version INT16 (0), then
/// `upstreamOffset` INT64 (the group's committed offset on the source), `offset` INT64 (the
/// translated offset on the target) and `metadata` STRING. Java's RemoteClusterUtils reads these.
public struct Checkpoint: Equatable, Sendable {
    public var group: String
    /// The topic as named on the target (the replica the group would read there), as MM2 writes it.
    public var topic: String
    public var partition: Int32
    public var upstreamOffset: Int64
    public var offset: Int64
    public var metadata: String

    public init(group: String, topic: String, partition: Int32, upstreamOffset: Int64, offset: Int64, metadata: String = "") {
        self.group = group
        self.topic = topic
        self.partition = partition
        self.upstreamOffset = upstreamOffset
        self.offset = offset
        self.metadata = metadata
    }

    public init(key: ByteBuffer, value: ByteBuffer) throws(KafkaCodecError) {
        var key = key
        var value = value
        group = try key.readKafkaString("group", compact: false)
        topic = try key.readKafkaString("topic", compact: false)
        partition = try key.readKafkaInteger("partition")
        try MM2RecordVersion.check(&value, record: "Checkpoint")
        upstreamOffset = try value.readKafkaInteger("upstreamOffset")
        offset = try value.readKafkaInteger("offset")
        metadata = try value.readKafkaString("metadata", compact: false)
    }

    public var key: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaString(group, compact: false)
        buffer.writeKafkaString(topic, compact: false)
        buffer.writeInteger(partition)
        return buffer
    }

    public var value: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(MM2RecordVersion.current)
        buffer.writeInteger(upstreamOffset)
        buffer.writeInteger(offset)
        buffer.writeKafkaString(metadata, compact: false)
        return buffer
    }
}
