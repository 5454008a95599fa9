/// One copied partition as the status API shows it.
public struct PartitionStatus: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var targetTopic: String
    /// The source's high watermark when last fetched.
    public var sourceEnd: Int64?
    /// The last source offset the target holds (acknowledged), if any.
    public var position: Int64?
    /// Records on the source not yet on the target.
    public var lag: Int64?
    public var records: Int64
    public var bytes: Int64
    /// Replication latencies of the last 10 to 20 seconds.
    public var latency: LatencyHistogram
}
