import KafkaProtocol
import NIOCore

/// MirrorMaker 2's offset-sync record (topic `mm2-offset-syncs.<target>.internal`): key `topic`
/// STRING, `partition` INT32 (the source partition); value `upstreamOffset` INT64 and `offset`
/// INT64 (where that source offset landed on the target). Unlike heartbeats and checkpoints the
/// value carries no version.
public struct OffsetSync: Equatable, Sendable {
    public var topic: String
    public var partition: Int32
    public var upstreamOffset: Int64
    public var offset: Int64

    public init(topic: String, partition: Int32, upstreamOffset: Int64, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.upstreamOffset = upstreamOffset
        self.offset = offset
    }

    public init(key: ByteBuffer, value: ByteBuffer) throws(KafkaCodecError) {
        var key = key
        var value = value
        topic = try key.readKafkaString("topic", compact: false)
        partition = try key.readKafkaInteger("partition")
        upstreamOffset = try value.readKafkaInteger("upstreamOffset")
        offset = try value.readKafkaInteger("offset")
    }

    public var key: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaString(topic, compact: false)
        buffer.writeInteger(partition)
        return buffer
    }

    public var value: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(upstreamOffset)
        buffer.writeInteger(offset)
        return buffer
    }
}
