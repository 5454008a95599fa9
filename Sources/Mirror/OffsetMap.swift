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
    /// Where each partition's runs begin to be complete (see `OffsetMapRecord`): below it the
    /// mirror copied without mapping, and nothing is translated.
    public private(set) var mappedFrom: [TopicPartition: Int64] = [:]

    public init() {}

    /// Applies a record (in any order: see `PartitionOffsetMap`).
    public mutating func apply(_ record: OffsetMapRecord) {
        switch record {
        case .run(let partition, let run):
            partitions[partition, default: PartitionOffsetMap()].apply(run)
        case .sourceEnd(let partition, let logEnd, let timestamp):
            sourceEnds[partition] = SourceEnd(logEnd: logEnd, timestamp: timestamp)
        case .mappedFrom(let partition, let offset, _):
            // The highest is the safest: a map lost and begun again starts higher.
            mappedFrom[partition] = max(mappedFrom[partition] ?? offset, offset)
        }
    }

    mutating func prune(_ partition: TopicPartition, below logStart: Int64) -> [OffsetRun] {
        partitions[partition]?.prune(below: logStart) ?? []
    }

    /// Adds copied records; returns the runs that now hold their source offsets (the records to
    /// write: what of them a later copy did not supersede, merged with its neighbours).
    mutating func append(_ partition: TopicPartition, _ run: OffsetRun) -> [OffsetRun] {
        partitions[partition, default: PartitionOffsetMap()].apply(run)
        return partitions[partition]?.runs(overlapping: run) ?? []
    }

    /// See `PartitionOffsetMap.translate`.
    public func translate(_ partition: TopicPartition, _ committed: Int64) -> Int64? {
        guard committed >= mappedFrom[partition] ?? 0 else { return nil }
        return partitions[partition]?.translate(committed)
    }

    mutating func forget(_ partition: TopicPartition) {
        partitions[partition] = nil
        mappedFrom[partition] = nil
    }
}
