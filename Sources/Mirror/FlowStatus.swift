/// What a flow has done and what is wrong with it, for the status API and metrics.
public struct FlowStatus: Sendable, Equatable {
    /// A partition whose data the flow could not copy in full.
    public struct Alarm: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var message: String
        /// True when the partition is stopped until an operator acts (`data.loss.policy=stop`).
        public var stopped: Bool
    }

    public var flow: String
    public var records: Int64 = 0
    public var bytes: Int64 = 0
    public var batchesForwarded: Int64 = 0
    public var batchesRewritten: Int64 = 0
    /// Records not copied on purpose: already seen by the target (`strait.origin`).
    public var recordsSkipped: Int64 = 0
    public var restarts: Int64 = 0
    public var dataLossEvents: Int64 = 0
    public var assignedPartitions: Int = 0
    public var topics: Int = 0
    public var checkpoints: Int64 = 0
    public var heartbeats: Int64 = 0
    /// Runs of the offset map this agent holds for its partitions.
    public var offsetMapRuns: Int = 0
    public var alarms: [Alarm] = []
    /// The partitions this agent copies.
    public var partitions: [PartitionStatus] = []
    /// The last checkpoint written per consumer group.
    public var groups: [GroupCheckpointStatus] = []

    /// Records on the source not yet on the target, over this agent's partitions.
    public var lag: Int64 { partitions.reduce(0) { $0 + ($1.lag ?? 0) } }

    /// Replication latencies of the last 10 to 20 seconds, over this agent's partitions.
    public var latency: LatencyHistogram {
        partitions.reduce(into: LatencyHistogram()) { $0.merge($1.latency) }
    }

    /// One line for the log.
    public var summary: String {
        "\(records) records (\(bytes) bytes) copied, \(batchesForwarded) batches forwarded as they were, "
            + "\(batchesRewritten) rewritten, \(recordsSkipped) records already at the target skipped, \(restarts) restarts, "
            + "\(alarms.count) alarms"
    }
}
