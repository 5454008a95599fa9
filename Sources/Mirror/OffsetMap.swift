import KafkaClient

/// A flow's offset map as read from (or about to be written to) its offset-map topic: the
/// runs of every source partition, and each partition's source log end as last seen.
public struct OffsetMap: Sendable {
    public struct SourceEnd: Equatable, Sendable {
        public var logEnd: Int64
        /// When the mirror saw it (ms since the epoch).
        public var timestamp: Int64
    }

    public private(set) var partitions: [TopicPartition: PartitionOffsetMap] = [:]
    public private(set) var sourceEnds: [TopicPartition: SourceEnd] = [:]

    public init() {}

    /// Applies a record (in any order: see `PartitionOffsetMap`).
    public mutating func apply(_ record: OffsetMapRecord) {
        switch record {
        case .run(let partition, let run):
            partitions[partition, default: PartitionOffsetMap()].apply(run)
        case .sourceEnd(let partition, let logEnd, let timestamp):
            sourceEnds[partition] = SourceEnd(logEnd: logEnd, timestamp: timestamp)
        }
    }

    mutating func prune(_ partition: TopicPartition, below logStart: Int64) -> [OffsetRun] {
        partitions[partition]?.prune(below: logStart) ?? []
    }

    /// Adds copied records; returns the run that now holds them (the record to write), or nil
    /// when a later copy of them was already known.
    mutating func append(_ partition: TopicPartition, _ run: OffsetRun) -> OffsetRun? {
        partitions[partition, default: PartitionOffsetMap()].apply(run)
        return partitions[partition]?.run(containing: run.sourceEnd - 1)
    }

    /// See `PartitionOffsetMap.translate`.
    public func translate(_ partition: TopicPartition, _ committed: Int64) -> Int64? {
        partitions[partition]?.translate(committed)
    }

    mutating func forget(_ partition: TopicPartition) {
        partitions[partition] = nil
    }
}
