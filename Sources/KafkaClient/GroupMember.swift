import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// A consumer's membership in a classic-protocol group: JoinGroup (with KIP-394's member-id
/// round trip and KIP-345 static membership), the leader's assignment, SyncGroup, background
/// heartbeats, and LeaveGroup. Rebalances are eager (revoke everything, then join) unless every
/// configured assignor is cooperative (KIP-429: keep what stays, revoke only what moves, and
/// join again once that is done).
///
/// The consumer calls `ensureActive` from `poll`, so joining happens on the consumer's task and
/// rebalance callbacks run there; the heartbeat task only flags that a rejoin is needed.
final class GroupMember: @unchecked Sendable {
    enum Subscription: Sendable {
        case topics(Set<String>)
        /// A regular expression matched against whole topic names (internal topics excluded).
        case pattern(String)
    }

    /// What the consumer does when partitions come or go; `lost` partitions were taken without
    /// a chance to commit (the member was expelled).
    struct Listener: Sendable {
        var assigned: @Sendable (Set<TopicPartition>) async -> Void
        var revoked: @Sendable (Set<TopicPartition>) async -> Void
        var lost: @Sendable (Set<TopicPartition>) async -> Void
    }

    let cluster: KafkaCluster
    let config: ConsumerConfig
    let group: String
    /// Where partition counts come from: the coordinator's cluster for consumers, another
    /// cluster for work groups (a mirror's agents share the source's partitions).
    private let partitionCounts: PartitionCountSource
    private let assignors: [PartitionAssignor]
    private let listener: Listener
    private let lock = NIOLock()
    private var subscription: Subscription
    private var memberId = ""
    private var generationId: Int32 = -1
    private var assigned: Set<TopicPartition> = []
    private var needsJoin = true
    private var isLeader = false
    /// Partition counts the leader assigned from; a change means a new rebalance.
    private var assignedCounts: [String: Int] = [:]
    private var fatal: KafkaClientError?
    private var heartbeat: Task<Void, Never>?
    private var closed = false
    /// Set by the heartbeat task when the coordinator no longer knows this generation; the
    /// partitions are given up in `ensureActive`, on the caller's task, as every callback is.
    private var lossPending = false

    init(cluster: KafkaCluster, config: ConsumerConfig, group: String, subscription: Subscription, listener: Listener,
         partitionCounts: PartitionCountSource? = nil) {
        self.cluster = cluster
        self.config = config
        self.group = group
        self.partitionCounts = partitionCounts ?? cluster
        self.subscription = subscription
        self.listener = listener
        assignors = config.assignors.map { name -> PartitionAssignor in
            switch name {
            case .range: return RangeAssignor()
            case .cooperativeSticky: return CooperativeStickyAssignor()
            }
        }
    }

    /// Cooperative only when every assignor is (as Java decides the rebalance protocol).
    var isCooperative: Bool { assignors.allSatisfy(\.isCooperative) }

    var generation: (id: Int32, memberId: String) { lock.withLock { (generationId, memberId) } }

    func resubscribe(_ subscription: Subscription) {
        lock.withLock {
            self.subscription = subscription
            needsJoin = true
        }
    }

    /// Joins (or rejoins) the group if needed; returns once the member is stable, or at
    /// `deadline` with the join still to finish (the next call goes on), as `poll`'s timeout
    /// bounds it. One JoinGroup may still take up to the rebalance timeout.
    func ensureActive(deadline: NIODeadline) async throws(KafkaClientError) {
        if let fatal = lock.withLock({ self.fatal }) { throw fatal }
        let lost: Bool = lock.withLock {
            defer { lossPending = false }
            return lossPending
        }
        if lost { await resetMembership(lostOwned: true) }
        startHeartbeatIfNeeded()
        while lock.withLock({ needsJoin && !closed }) && NIODeadline.now() < deadline {
            do throws(KafkaClientError) {
                try await joinAndSync()
            } catch {
                switch error {
                case .broker(.fencedInstanceId, _), .broker(.groupAuthorizationFailed, _), .broker(.inconsistentGroupProtocol, _),
                     .broker(.groupMaxSizeReached, _), .broker(.invalidSessionTimeout, _):
                    lock.withLock { fatal = error }
                    throw error
                case .broker(.memberIdRequired, _):
                    continue  // KIP-394: join again at once with the id just given
                default:
                    try? await Task.sleep(nanoseconds: UInt64(cluster.config.retryBackoff.nanoseconds))
                }
            }
        }
    }

    private func subscribedTopics() async throws(KafkaClientError) -> (topics: [String], counts: [String: Int]) {
        switch lock.withLock({ subscription }) {
        case .topics(let topics):
            return (topics.sorted(), try await partitionCounts.partitionCounts(of: topics))
        case .pattern(let pattern):
            let metadata = try await cluster.allTopics()
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(pattern)
            } catch {
                throw .invalidArgument("subscription pattern '\(pattern)': \(error)")
            }
            let matching = metadata.topics.values.filter { !$0.isInternal && $0.name.wholeMatch(of: regex) != nil }.map(\.name).sorted()
            _ = try await cluster.watch(matching)
            return (matching, matching.reduce(into: [:]) { $0[$1] = metadata.partitionCount($1) })
        }
    }

    private func joinAndSync() async throws(KafkaClientError) {
        if !isCooperative {
            let revoked: Set<TopicPartition> = lock.withLock {
                defer { assigned = [] }
                return assigned
            }
            if !revoked.isEmpty { await listener.revoked(revoked) }
        }
        let (topics, _) = try await subscribedTopics()
        let (memberId, generation, owned) = lock.withLock { (self.memberId, generationId, assigned) }
        var ownedByTopic: [String: [Int32]] = [:]
        for partition in owned.sorted() { ownedByTopic[partition.topic, default: []].append(partition.partition) }
        let metadata: ByteBuffer
        do {
            metadata = try ConsumerProtocolSubscription(topics: topics, userData: nil,
                                                        ownedPartitions: ownedByTopic.map { .init(topic: $0.key, partitions: $0.value) },
                                                        generationId: generation, rackId: nil).encodedWithVersionPrefix(version: 3)
        } catch {
            throw .invalidArgument("cannot encode the subscription: \(error)")
        }
        let join = JoinGroupRequest(groupId: group, sessionTimeoutMs: Self.ms(config.sessionTimeout), rebalanceTimeoutMs: Self.ms(config.maxPollInterval),
                                    memberId: memberId, groupInstanceId: config.groupInstanceId, protocolType: "consumer",
                                    protocols: assignors.map { .init(name: $0.name.rawValue, metadata: metadata) }, reason: nil)
        let joined = try await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
            try await connection.send(join, timeout: config.maxPollInterval + .seconds(5))
        }
        switch ErrorCode(rawValue: joined.errorCode) {
        case .noError:
            break
        case .memberIdRequired:
            // KIP-394: join again with the id the coordinator gave us.
            lock.withLock { self.memberId = joined.memberId }
            throw .broker(.memberIdRequired, context: "JoinGroup \(group)")
        case .unknownMemberId, .illegalGeneration:
            await resetMembership(lostOwned: true)
            throw .from(joined.errorCode, "JoinGroup \(group)")
        default:
            throw .from(joined.errorCode, "JoinGroup \(group)")
        }
        var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
        if joined.leader == joined.memberId && !joined.skipAssignment {
            assignments = try await leaderAssignments(joined)
        }
        let sync = SyncGroupRequest(groupId: group, generationId: joined.generationId, memberId: joined.memberId,
                                    groupInstanceId: config.groupInstanceId, protocolType: "consumer", protocolName: joined.protocolName,
                                    assignments: assignments)
        let synced = try await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
            try await connection.send(sync, timeout: config.maxPollInterval + .seconds(5))
        }
        switch ErrorCode(rawValue: synced.errorCode) {
        case .noError:
            break
        case .unknownMemberId, .illegalGeneration:
            await resetMembership(lostOwned: true)
            throw .from(synced.errorCode, "SyncGroup \(group)")
        default:
            throw .from(synced.errorCode, "SyncGroup \(group)")
        }
        var newAssignment: Set<TopicPartition> = []
        if synced.assignment.readableBytes > 0 {
            do {
                let decoded = try ConsumerProtocolAssignment.decodeWithVersionPrefix(from: synced.assignment).message
                for topic in decoded.assignedPartitions {
                    for partition in topic.partitions { newAssignment.insert(TopicPartition(topic.topic, partition)) }
                }
            } catch {
                throw .codec("assignment of group \(group): \(error)")
            }
        }
        let previous: Set<TopicPartition> = lock.withLock {
            self.memberId = joined.memberId
            generationId = joined.generationId
            isLeader = joined.leader == joined.memberId
            let previous = assigned
            assigned = newAssignment
            needsJoin = false
            return previous
        }
        let revoked = previous.subtracting(newAssignment)
        let added = newAssignment.subtracting(previous)
        if !revoked.isEmpty {
            await listener.revoked(revoked)
            // KIP-429: partitions given up must be released before anyone else can get them.
            lock.withLock { needsJoin = true }
        }
        await listener.assigned(added)
    }

    /// The leader's work: decode every member's subscription and run the chosen assignor.
    private func leaderAssignments(_ joined: JoinGroupResponse) async throws(KafkaClientError) -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        guard let assignor = assignors.first(where: { $0.name.rawValue == joined.protocolName }) else {
            throw .invalidArgument("the group chose assignor \(joined.protocolName ?? "none"), which this client does not have")
        }
        var members: [GroupSubscription] = []
        for member in joined.members {
            do {
                let subscription = try ConsumerProtocolSubscription.decodeWithVersionPrefix(from: member.metadata).message
                members.append(GroupSubscription(memberId: member.memberId, groupInstanceId: member.groupInstanceId, topics: subscription.topics,
                                                 ownedPartitions: subscription.ownedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0) } },
                                                 generationId: subscription.generationId))
            } catch {
                throw .codec("subscription of member \(member.memberId): \(error)")
            }
        }
        let topics = Set(members.flatMap(\.topics))
        var counts = try await partitionCounts.partitionCounts(of: topics)
        for topic in topics where counts[topic] == nil { counts[topic] = 0 }
        lock.withLock { assignedCounts = counts }
        let plan = assignor.assign(members, partitionCounts: counts)
        var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
        for member in members {
            var byTopic: [String: [Int32]] = [:]
            for partition in plan[member.memberId] ?? [] { byTopic[partition.topic, default: []].append(partition.partition) }
            do {
                let bytes = try ConsumerProtocolAssignment(assignedPartitions: byTopic.sorted { $0.key < $1.key }.map { .init(topic: $0.key, partitions: $0.value) },
                                                           userData: nil).encodedWithVersionPrefix(version: 0)
                assignments.append(.init(memberId: member.memberId, assignment: bytes))
            } catch {
                throw .invalidArgument("cannot encode an assignment: \(error)")
            }
        }
        return assignments
    }

    /// Forgets the generation (and, for a lost member id, the id); partitions are lost, not
    /// revoked: another member may already own them.
    private func resetMembership(lostOwned: Bool) async {
        let lost: Set<TopicPartition> = lock.withLock {
            memberId = config.groupInstanceId == nil ? "" : memberId
            generationId = -1
            needsJoin = true
            defer { if lostOwned { assigned = [] } }
            return lostOwned ? assigned : []
        }
        if !lost.isEmpty { await listener.lost(lost) }
    }

    private func startHeartbeatIfNeeded() {
        lock.withLock {
            guard heartbeat == nil, !closed else { return }
            heartbeat = Task { await self.heartbeatLoop() }
        }
    }

    private func heartbeatLoop() async {
        var lastSuccess = NIODeadline.now()
        while !lock.withLock({ closed }) {
            try? await Task.sleep(nanoseconds: UInt64(config.heartbeatInterval.nanoseconds))
            let (memberId, generation, joining, left) = lock.withLock { (self.memberId, generationId, needsJoin, closed) }
            // After leave() the coordinator no longer knows us: a heartbeat would only report
            // the partitions as lost.
            if left { return }
            guard generation >= 0, !joining else {
                lastSuccess = .now()
                continue
            }
            do throws(KafkaClientError) {
                let response = try await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
                    try await connection.send(HeartbeatRequest(groupId: group, generationId: generation, memberId: memberId, groupInstanceId: config.groupInstanceId))
                }
                switch ErrorCode(rawValue: response.errorCode) {
                case .noError:
                    lastSuccess = .now()
                    if await partitionCountsChanged() { lock.withLock { needsJoin = true } }
                case .rebalanceInProgress:
                    lastSuccess = .now()
                    lock.withLock { needsJoin = true }
                case .unknownMemberId, .illegalGeneration:
                    markLost(generation: generation)
                case .fencedInstanceId:
                    lock.withLock { fatal = .broker(.fencedInstanceId, context: "Heartbeat \(group)") }
                default:
                    break
                }
            } catch {
                if NIODeadline.now() - lastSuccess > config.sessionTimeout { markLost(generation: generation) }
            }
        }
    }

    /// Flags the partitions as lost, unless a newer generation was joined since the heartbeat
    /// that found out went out (its answer is about the old one).
    private func markLost(generation: Int32) {
        lock.withLock {
            guard generationId == generation else { return }
            lossPending = true
            needsJoin = true
        }
    }

    /// The leader starts a rebalance when a subscribed topic gained partitions (or, for a
    /// pattern, when the matching topics changed).
    private func partitionCountsChanged() async -> Bool {
        guard lock.withLock({ isLeader }) else {
            if case .pattern = lock.withLock({ subscription }) { return await matchingTopicsChanged() }
            return false
        }
        guard let (topics, found) = try? await subscribedTopics() else { return false }
        // As the assignment counted them: a topic without metadata has no partitions.
        var counts = found
        for topic in topics where counts[topic] == nil { counts[topic] = 0 }
        let previous = lock.withLock { assignedCounts }
        return Set(topics) != Set(previous.keys) || counts != previous
    }

    private func matchingTopicsChanged() async -> Bool {
        guard let (topics, _) = try? await subscribedTopics() else { return false }
        let current = Set(lock.withLock { assigned }.map(\.topic))
        return !Set(topics).isSuperset(of: current)
    }

    /// Stops heartbeats and leaves the group (static members stay, KIP-345: their partitions
    /// wait for them until the session times out).
    func leave() async {
        let (task, memberId, generation): (Task<Void, Never>?, String, Int32) = lock.withLock {
            closed = true
            return (heartbeat, self.memberId, generationId)
        }
        task?.cancel()
        guard config.groupInstanceId == nil, !memberId.isEmpty, generation >= 0 else { return }
        _ = try? await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
            let version = try connection.version(.leaveGroup)
            return try await connection.send(LeaveGroupRequest(groupId: group, memberId: version < 3 ? memberId : "",
                                                               members: [.init(memberId: memberId, groupInstanceId: nil, reason: "the consumer is closing")]))
        }
    }

    private static func ms(_ amount: TimeAmount) -> Int32 { Int32(clamping: amount.nanoseconds / 1_000_000) }
}
