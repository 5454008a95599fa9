import KafkaProtocol
import NIOCore

/// MirrorMaker 2's heartbeat record (topic `heartbeats`): key `sourceClusterAlias` STRING,
/// `targetClusterAlias` STRING; value a version INT16 (0) then `timestamp` INT64. STRING is
/// Kafka's INT16 length and UTF-8, as Kafka's Struct encoding writes it, so tools that read
/// MM2's heartbeats read these.
public struct Heartbeat: Equatable, Sendable {
    public var sourceClusterAlias: String
    public var targetClusterAlias: String
    public var timestamp: Int64

    public init(sourceClusterAlias: String, targetClusterAlias: String, timestamp: Int64) {
        self.sourceClusterAlias = sourceClusterAlias
        self.targetClusterAlias = targetClusterAlias
        self.timestamp = timestamp
    }

    public init(key: ByteBuffer, value: ByteBuffer) throws(KafkaCodecError) {
        var key = key
        var value = value
        sourceClusterAlias = try key.readKafkaString("sourceClusterAlias", compact: false)
        targetClusterAlias = try key.readKafkaString("targetClusterAlias", compact: false)
        try MM2RecordVersion.check(&value, record: "Heartbeat")
        timestamp = try value.readKafkaInteger("timestamp")
    }

    public var key: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaString(sourceClusterAlias, compact: false)
        buffer.writeKafkaString(targetClusterAlias, compact: false)
        return buffer
    }

    public var value: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(MM2RecordVersion.current)
        buffer.writeInteger(timestamp)
        return buffer
    }
}
