import NIOCore

/// What the consumer knows of each assigned partition: its position, how the position is to be
/// found when unknown, the leader epoch it was last validated against, and whether a fetch is
/// out or its answer is waiting for `poll`. Pure state; the fetcher does the I/O.
struct SubscriptionState {
    enum PositionSource: Sendable, Equatable {
        /// The group's committed offset, then `auto.offset.reset`.
        case committed
        case earliest
        case latest
        case timestamp(Int64)
    }

    struct PartitionState {
        /// The next offset `poll` hands out.
        var position: Int64?
        /// Where the next fetch starts: past the answers already buffered for `poll`.
        var fetchPosition: Int64?
        var pendingPosition: PositionSource?
        /// Epoch of the last fetched batch, for OffsetForLeaderEpoch validation (KIP-320).
        var lastFetchedEpoch: Int32 = -1
        /// The leader epoch the position is known to be valid under.
        var validatedLeaderEpoch: Int32 = -1
        var needsValidation = false
        var paused = false
        var fetchInFlight = false
        /// Fetch answers waiting for `poll`; fetching goes on while this is below
        /// `maxBufferedFetches`, so the next data is on its way while the caller works.
        var bufferedFetches = 0
        /// A problem to report at the next poll (then cleared).
        var error: KafkaClientError?
    }

    static let maxBufferedFetches = 3

    private(set) var partitions: [TopicPartition: PartitionState] = [:]

    var assignment: Set<TopicPartition> { Set(partitions.keys) }

    /// Replaces the assignment: partitions kept keep their state, new ones start from `source`.
    mutating func assign(_ assignment: Set<TopicPartition>, source: PositionSource) {
        for removed in partitions.keys where !assignment.contains(removed) { partitions[removed] = nil }
        for added in assignment where partitions[added] == nil {
            partitions[added] = PartitionState(pendingPosition: source)
        }
    }

    subscript(_ topicPartition: TopicPartition) -> PartitionState? {
        get { partitions[topicPartition] }
        set { partitions[topicPartition] = newValue }
    }

    /// Moves both positions (a seek, a reset, a found offset); buffered answers no longer
    /// apply and the caller drops them.
    mutating func reposition(_ topicPartition: TopicPartition, to offset: Int64?, pending: PositionSource? = nil) {
        guard partitions[topicPartition] != nil else { return }
        partitions[topicPartition]!.position = offset
        partitions[topicPartition]!.fetchPosition = offset
        partitions[topicPartition]!.pendingPosition = pending
        partitions[topicPartition]!.bufferedFetches = 0
        partitions[topicPartition]!.error = nil
    }

    mutating func seek(_ topicPartition: TopicPartition, to offset: Int64) {
        reposition(topicPartition, to: offset)
    }

    mutating func seek(_ topicPartition: TopicPartition, to source: PositionSource) {
        reposition(topicPartition, to: nil, pending: source)
    }

    /// Partitions whose position must be looked up, by how.
    var pendingPositions: [(TopicPartition, PositionSource)] {
        partitions.compactMap { key, state in state.pendingPosition.map { (key, $0) } }
    }

    /// Partitions that may be fetched now, with the offset to fetch from.
    var fetchable: [(TopicPartition, Int64)] {
        partitions.compactMap { key, state in
            guard let position = state.fetchPosition, !state.paused, !state.fetchInFlight, state.bufferedFetches < Self.maxBufferedFetches,
                  !state.needsValidation, state.error == nil else { return nil }
            return (key, position)
        }
    }
}
