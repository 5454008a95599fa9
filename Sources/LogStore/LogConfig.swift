import KafkaProtocol

/// The settings of one partition log, resolved from topic overrides, broker settings and
/// Kafka's defaults (in that order; see `TopicConfigDefinition`).
public struct LogConfig: Sendable, Equatable {
    public var segmentBytes: Int
    public var segmentMs: Int64
    public var segmentIndexBytes: Int
    public var indexIntervalBytes: Int
    public var retentionMs: Int64
    public var retentionBytes: Int64
    public var compact: Bool
    public var deleteOnRetention: Bool
    public var deleteRetentionMs: Int64
    public var minCompactionLagMs: Int64
    public var maxMessageBytes: Int
    public var logAppendTime: Bool
    public var timestampBeforeMaxMs: Int64
    public var timestampAfterMaxMs: Int64
    public var flushMessages: Int64
    public var flushMs: Int64
    /// The most a batch's records may take once decompressed (the broker's
    /// `strait.decompression.max.bytes`): a bound on what one batch can cost to check or read.
    public var decompressionLimit = CompressionCodec.defaultDecompressionLimit

    /// Builds the config from effective values by topic-config name; missing or unparsable
    /// values fall back to Kafka's defaults (values are validated before they are stored).
    public init(_ values: [String: String] = [:]) {
        func string(_ name: String) -> String {
            values[name] ?? TopicConfigDefinition.byName[name]!.defaultValue
        }
        func long(_ name: String) -> Int64 {
            Int64(string(name).trimmingWhitespace()) ?? Int64(TopicConfigDefinition.byName[name]!.defaultValue)!
        }
        segmentBytes = Int(long("segment.bytes"))
        segmentMs = long("segment.ms")
        segmentIndexBytes = Int(long("segment.index.bytes"))
        indexIntervalBytes = Int(long("index.interval.bytes"))
        retentionMs = long("retention.ms")
        retentionBytes = long("retention.bytes")
        let policies = string("cleanup.policy").split(separator: ",").map { String($0).trimmingWhitespace() }
        compact = policies.contains("compact")
        deleteOnRetention = policies.contains("delete")
        deleteRetentionMs = long("delete.retention.ms")
        minCompactionLagMs = long("min.compaction.lag.ms")
        maxMessageBytes = Int(long("max.message.bytes"))
        logAppendTime = string("message.timestamp.type") == "LogAppendTime"
        timestampBeforeMaxMs = long("message.timestamp.before.max.ms")
        timestampAfterMaxMs = long("message.timestamp.after.max.ms")
        flushMessages = long("flush.messages")
        flushMs = long("flush.ms")
    }
}
