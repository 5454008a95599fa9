import NIOCore

/// A member of a classic-protocol group that shares out partitions of topics the coordinator's
/// cluster need not hold, the way Kafka Connect shares connector tasks: the coordinator only
/// carries the members' subscriptions and the leader's assignment, so processes can split
/// work over any cluster's partitions while Kafka's group protocol decides who owns what.
///
/// Ownership changes only inside `poll`, through the listener: a partition is revoked from one
/// member (and the member has stopped working on it when `revoked` returns) before the
/// coordinator lets another member have it.
public final class WorkGroupMember: Sendable {
    private let member: GroupMember

    public struct Listener: Sendable {
        public var assigned: @Sendable (Set<TopicPartition>) async -> Void
        public var revoked: @Sendable (Set<TopicPartition>) async -> Void
        /// Partitions taken away without a revocation (the member was expelled): another member
        /// may already be working on them.
        public var lost: @Sendable (Set<TopicPartition>) async -> Void

        public init(assigned: @escaping @Sendable (Set<TopicPartition>) async -> Void,
                    revoked: @escaping @Sendable (Set<TopicPartition>) async -> Void,
                    lost: @escaping @Sendable (Set<TopicPartition>) async -> Void) {
            self.assigned = assigned
            self.revoked = revoked
            self.lost = lost
        }
    }

    /// `config` supplies the group id, timeouts and assignors (cooperative-sticky keeps work
    /// in place across rebalances).
    public init(coordinatorCluster: KafkaCluster, config: ConsumerConfig, topics: Set<String>,
                partitionCounts: PartitionCountSource, listener: Listener) throws(KafkaClientError) {
        guard let group = config.groupId else { throw .invalidArgument("a work group needs group.id") }
        member = GroupMember(cluster: coordinatorCluster, config: config, group: group, subscription: .topics(topics),
                             listener: .init(assigned: listener.assigned, revoked: listener.revoked, lost: listener.lost),
                             partitionCounts: partitionCounts)
    }

    /// Joins or rejoins when needed, running the listener; returns by `deadline` unless one
    /// JoinGroup round is under way.
    public func poll(deadline: NIODeadline) async throws(KafkaClientError) {
        try await member.ensureActive(deadline: deadline)
    }

    /// Changes the topics to share; the group rebalances.
    public func update(topics: Set<String>) {
        member.resubscribe(.topics(topics))
    }

    public var generation: (id: Int32, memberId: String) { member.generation }

    public func leave() async {
        await member.leave()
    }
}
