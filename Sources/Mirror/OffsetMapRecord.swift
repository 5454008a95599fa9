import KafkaClient
import KafkaProtocol
import NIOCore

/// A record of Strait's offset map (`strait-offset-map.<source>.internal` on the target), in
/// MM2's encoding style (big-endian, STRING = INT16 length + UTF-8) so the same tools can read
/// it. Key: source `topic` STRING, `partition` INT32, `sourceOffset` INT64. A run's value is
/// version INT16 (0), `targetOffset` INT64, `span` INT64; keyed by where the run starts, a
/// growing run replaces its earlier record under compaction while other runs stay. The key
/// with source offset -1 holds the source's log end as last seen: version INT16 (0), `logEnd`
/// INT64, `timestamp` INT64 (ms), which failover reports against once the source is gone. The
/// key with source offset -2 says from which source offset on the runs are complete (a flow
/// that took over from MirrorMaker 2 or from a Strait without the map has copied what lies
/// below without mapping it): version INT16 (0), `offset` INT64, `timestamp` INT64.
public enum OffsetMapRecord: Equatable, Sendable {
    case run(TopicPartition, OffsetRun)
    case sourceEnd(TopicPartition, logEnd: Int64, timestamp: Int64)
    case mappedFrom(TopicPartition, offset: Int64, timestamp: Int64)

    private static let sourceEndMarker: Int64 = -1
    private static let mappedFromMarker: Int64 = -2

    public init(key: ByteBuffer, value: ByteBuffer) throws(KafkaCodecError) {
        var key = key
        var value = value
        let partition = TopicPartition(try key.readKafkaString("topic", compact: false), try key.readKafkaInteger("partition"))
        let sourceOffset: Int64 = try key.readKafkaInteger("sourceOffset")
        try MM2RecordVersion.check(&value, record: "offset map")
        let first: Int64 = try value.readKafkaInteger(sourceOffset >= 0 ? "targetOffset" : "offset")
        let second: Int64 = try value.readKafkaInteger(sourceOffset >= 0 ? "span" : "timestamp")
        if sourceOffset == Self.sourceEndMarker {
            self = .sourceEnd(partition, logEnd: first, timestamp: second)
        } else if sourceOffset == Self.mappedFromMarker {
            self = .mappedFrom(partition, offset: first, timestamp: second)
        } else {
            guard sourceOffset >= 0, first >= 0, second > 0 else { throw .corrupt("offset map run \(sourceOffset)/\(first)/\(second) is not valid") }
            self = .run(partition, OffsetRun(sourceOffset: sourceOffset, targetOffset: first, span: second))
        }
    }

    public var partition: TopicPartition {
        switch self {
        case .run(let partition, _), .sourceEnd(let partition, _, _), .mappedFrom(let partition, _, _): return partition
        }
    }

    public var key: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaString(partition.topic, compact: false)
        buffer.writeInteger(partition.partition)
        switch self {
        case .run(_, let run): buffer.writeInteger(run.sourceOffset)
        case .sourceEnd: buffer.writeInteger(Self.sourceEndMarker)
        case .mappedFrom: buffer.writeInteger(Self.mappedFromMarker)
        }
        return buffer
    }

    public var value: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(MM2RecordVersion.current)
        switch self {
        case .run(_, let run):
            buffer.writeInteger(run.targetOffset)
            buffer.writeInteger(run.span)
        case .sourceEnd(_, let first, let timestamp), .mappedFrom(_, let first, let timestamp):
            buffer.writeInteger(first)
            buffer.writeInteger(timestamp)
        }
        return buffer
    }
}
