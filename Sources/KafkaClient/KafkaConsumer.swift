import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A Kafka consumer for any Kafka-protocol cluster: a manual assignment (`assign`) or a group
/// subscription (`subscribe`, classic protocol), positions that can be moved (`seek`), and
/// `poll` for decoded records or `pollBatches` for raw batches. Fetching runs in the background
/// (see `Fetcher`); group joins and rebalance callbacks run inside `poll`.
public final class KafkaConsumer: @unchecked Sendable {
    public let cluster: KafkaCluster
    public let config: ConsumerConfig
    private let fetcher: Fetcher
    private let lock = NIOLock()
    private var member: GroupMember?
    private var lastAutoCommit = NIODeadline.now()
    private var closed = false
    /// Called with newly assigned and revoked partitions during group rebalances.
    private let rebalanceListener: RebalanceListener?

    /// A rebalance listener, as Java's ConsumerRebalanceListener: `revoked` runs before
    /// partitions are given up (after their positions were committed with auto-commit on).
    public struct RebalanceListener: Sendable {
        public var assigned: @Sendable (Set<TopicPartition>) async -> Void
        public var revoked: @Sendable (Set<TopicPartition>) async -> Void

        public init(assigned: @escaping @Sendable (Set<TopicPartition>) async -> Void = { _ in },
                    revoked: @escaping @Sendable (Set<TopicPartition>) async -> Void = { _ in }) {
            self.assigned = assigned
            self.revoked = revoked
        }
    }

    public init(cluster: KafkaCluster, config: ConsumerConfig = ConsumerConfig(), rebalanceListener: RebalanceListener? = nil) {
        self.cluster = cluster
        self.config = config
        self.rebalanceListener = rebalanceListener
        fetcher = Fetcher(cluster: cluster, config: config)
    }

    // MARK: - Assignment

    /// Where a newly assigned partition starts.
    public enum StartPosition: Sendable, Equatable {
        case offset(Int64)
        case beginning
        case end
    }

    /// Consumes exactly these partitions (no group membership; commits still go to `group.id`).
    /// Partitions in `starts` begin there; others already assigned keep their positions, and new
    /// ones start at the committed offset or by `auto.offset.reset`.
    public func assign(_ partitions: [TopicPartition], starts: [TopicPartition: StartPosition] = [:]) throws(KafkaClientError) {
        guard lock.withLock({ member == nil }) else { throw .invalidArgument("assign after subscribe: unsubscribe first") }
        fetcher.assign(Set(partitions), starts: starts)
    }

    /// Joins `group.id` and consumes the partitions the group assigns.
    public func subscribe(topics: [String]) throws(KafkaClientError) {
        try subscribe(.topics(Set(topics)))
    }

    /// Subscribes to every topic whose whole name matches `pattern` (a regular expression),
    /// including topics created later.
    public func subscribe(pattern: String) throws(KafkaClientError) {
        do {
            _ = try Regex(pattern)
        } catch {
            throw .invalidArgument("subscription pattern '\(pattern)': \(error)")
        }
        try subscribe(.pattern(pattern))
    }

    private func subscribe(_ subscription: GroupMember.Subscription) throws(KafkaClientError) {
        guard let group = config.groupId else { throw .invalidArgument("subscribe needs group.id") }
        let existing: GroupMember? = lock.withLock { member }
        if let existing {
            existing.resubscribe(subscription)
            return
        }
        guard fetcher.assignment.isEmpty else { throw .invalidArgument("subscribe after assign: assign([]) first") }
        let listener = GroupMember.Listener(
            assigned: { [weak self] partitions in await self?.partitionsAssigned(partitions) },
            revoked: { [weak self] partitions in await self?.partitionsRevoked(partitions, lost: false) },
            lost: { [weak self] partitions in await self?.partitionsRevoked(partitions, lost: true) })
        let created = GroupMember(cluster: cluster, config: config, group: group, subscription: subscription, listener: listener)
        lock.withLock { member = created }
    }

    public var assignment: Set<TopicPartition> { fetcher.assignment }

    private func partitionsAssigned(_ partitions: Set<TopicPartition>) async {
        fetcher.assign(fetcher.assignment.union(partitions))
        if let listener = rebalanceListener, !partitions.isEmpty { await listener.assigned(partitions) }
    }

    private func partitionsRevoked(_ partitions: Set<TopicPartition>, lost: Bool) async {
        if !lost && config.enableAutoCommit {
            let positions = fetcher.positions.filter { partitions.contains($0.key) }
            try? await commit(positions)
        }
        if let listener = rebalanceListener, !partitions.isEmpty { await listener.revoked(partitions) }
        fetcher.assign(fetcher.assignment.subtracting(partitions))
    }

    // MARK: - Positions

    public func seek(_ topicPartition: TopicPartition, to offset: Int64) throws(KafkaClientError) {
        try fetcher.seek(topicPartition, to: offset)
    }

    public func seekToBeginning(_ partitions: [TopicPartition]) throws(KafkaClientError) {
        for partition in partitions { try fetcher.seek(partition, to: .earliest) }
    }

    public func seekToEnd(_ partitions: [TopicPartition]) throws(KafkaClientError) {
        for partition in partitions { try fetcher.seek(partition, to: .latest) }
    }

    /// Moves to the first record with a timestamp at or after `timestamp` (the log end if none).
    public func seek(_ topicPartition: TopicPartition, toTimestamp timestamp: Int64) throws(KafkaClientError) {
        try fetcher.seek(topicPartition, to: .timestamp(timestamp))
    }

    /// The next offset `poll` will return for the partition, once known.
    public func position(_ topicPartition: TopicPartition) -> Int64? {
        fetcher.position(topicPartition)
    }

    public func pause(_ partitions: [TopicPartition]) throws(KafkaClientError) {
        try fetcher.setPaused(partitions, true)
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaClientError) {
        try fetcher.setPaused(partitions, false)
    }

    // MARK: - Polling

    /// Records fetched since the last poll, waiting up to `timeout` when none are ready.
    public func poll(timeout: TimeAmount = .milliseconds(100)) async throws(KafkaClientError) -> [ConsumerRecord] {
        let fetches = try await pollBatches(timeout: timeout)
        var records: [ConsumerRecord] = []
        records.reserveCapacity(min(fetches.reduce(0) { $0 + $1.reservation }, PartitionFetch.reservationCap))
        for fetch in fetches { try fetch.appendRecords(to: &records) }
        return records
    }

    /// Like `poll`, as raw batches per partition.
    public func pollBatches(timeout: TimeAmount = .milliseconds(100)) async throws(KafkaClientError) -> [PartitionFetch] {
        guard !lock.withLock({ closed }) else { throw .closed }
        let deadline = NIODeadline.now() + timeout
        while true {
            if let member = lock.withLock({ member }) { try await member.ensureActive(deadline: deadline) }
            try await autoCommitIfDue()
            // Short slices keep rebalances prompt while the fetcher waits for data.
            let slice = min(deadline - .now(), config.heartbeatInterval)
            let fetched = try await fetcher.poll(timeout: max(slice, .zero))
            if !fetched.isEmpty || NIODeadline.now() >= deadline { return fetched }
        }
    }

    // MARK: - Commits

    /// Commits `offsets` (the current positions when nil) for `group.id`, and waits for it.
    public func commit(_ offsets: [TopicPartition: Int64]? = nil) async throws(KafkaClientError) {
        guard let group = config.groupId else { throw .invalidArgument("commit needs group.id") }
        let wanted = offsets ?? fetcher.positions
        let generation: (id: Int32, memberId: String) = lock.withLock { member }?.generation ?? (-1, "")
        try await cluster.commitOffsets(group: group, offsets: wanted.mapValues { KafkaCluster.CommittedOffset(offset: $0) },
                                        generationId: generation.id, memberId: generation.memberId, groupInstanceId: config.groupInstanceId)
    }

    /// Commits in the background; `completion` gets the outcome.
    public func commitAsync(_ offsets: [TopicPartition: Int64]? = nil, completion: (@Sendable (KafkaClientError?) -> Void)? = nil) {
        let wanted = offsets ?? fetcher.positions
        Task {
            do throws(KafkaClientError) {
                try await self.commit(wanted)
                completion?(nil)
            } catch {
                completion?(error)
            }
        }
    }

    /// The group's committed offsets for `partitions`.
    public func committed(_ partitions: [TopicPartition]) async throws(KafkaClientError) -> [TopicPartition: Int64] {
        guard let group = config.groupId else { throw .invalidArgument("committed needs group.id") }
        return try await cluster.committedOffsets(group: group, partitions: partitions).mapValues(\.offset)
    }

    /// Auto-commits every `auto.commit.interval.ms`, and only as a member of a generation: a
    /// commit made while joining would carry no generation and the coordinator refuses it.
    private func autoCommitIfDue() async throws(KafkaClientError) {
        guard config.enableAutoCommit, config.groupId != nil else { return }
        if let member = lock.withLock({ member }), member.generation.id < 0 { return }
        let due: Bool = lock.withLock {
            guard NIODeadline.now() - lastAutoCommit >= config.autoCommitInterval else { return false }
            lastAutoCommit = .now()
            return true
        }
        if due { commitAsync() }
    }

    /// Commits (with auto-commit on), leaves the group and stops fetching.
    public func close() async {
        let (member, wasClosed): (GroupMember?, Bool) = lock.withLock {
            defer { closed = true }
            return (self.member, closed)
        }
        guard !wasClosed else { return }
        if config.enableAutoCommit, config.groupId != nil { try? await commit() }
        await member?.leave()
        await fetcher.close()
    }
}
