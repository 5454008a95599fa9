import KafkaProtocol

/// Committed offsets of consumer groups, read and written at the group's coordinator; shared
/// by the consumer (its own group) and the admin client (any group).
extension KafkaCluster {
    public struct CommittedOffset: Sendable, Equatable {
        public var offset: Int64
        public var leaderEpoch: Int32
        public var metadata: String?

        public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil) {
            self.offset = offset
            self.leaderEpoch = leaderEpoch
            self.metadata = metadata
        }
    }

    /// The group's committed offsets for `partitions` (every committed partition when nil).
    /// Partitions without a commit are left out. `requireStable` waits out pending
    /// transactional commits (KIP-447).
    public func committedOffsets(group: String, partitions: [TopicPartition]?, requireStable: Bool = false) async throws(KafkaClientError) -> [TopicPartition: CommittedOffset] {
        try await withCoordinator(group: group) { connection throws(KafkaClientError) in
            let version = try connection.version(.offsetFetch)
            var byTopic: [String: [Int32]] = [:]
            for topicPartition in partitions ?? [] { byTopic[topicPartition.topic, default: []].append(topicPartition.partition) }
            var result: [TopicPartition: CommittedOffset] = [:]
            func add(_ topic: String, _ partition: Int32, _ offset: Int64, _ epoch: Int32, _ metadata: String?, _ code: Int16) throws(KafkaClientError) {
                try KafkaClientError.check(code, "OffsetFetch \(group) \(topic)-\(partition)")
                if offset >= 0 { result[TopicPartition(topic, partition)] = CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata) }
            }
            if version >= 8 {
                let topics = partitions == nil ? nil : byTopic.map { OffsetFetchRequest.OffsetFetchRequestTopics(name: $0.key, partitionIndexes: $0.value) }
                let response = try await connection.send(OffsetFetchRequest(groups: [.init(groupId: group, topics: topics)], requireStable: requireStable))
                guard let answer = response.groups.first(where: { $0.groupId == group }) else { throw .codec("OffsetFetch answer without group \(group)") }
                try KafkaClientError.check(answer.errorCode, "OffsetFetch \(group)")
                for topic in answer.topics {
                    for partition in topic.partitions {
                        try add(topic.name, partition.partitionIndex, partition.committedOffset, partition.committedLeaderEpoch, partition.metadata, partition.errorCode)
                    }
                }
            } else {
                let topics = partitions == nil ? nil : byTopic.map { OffsetFetchRequest.OffsetFetchRequestTopic(name: $0.key, partitionIndexes: $0.value) }
                let response = try await connection.send(OffsetFetchRequest(groupId: group, topics: topics, requireStable: requireStable))
                try KafkaClientError.check(response.errorCode, "OffsetFetch \(group)")
                for topic in response.topics {
                    for partition in topic.partitions {
                        try add(topic.name, partition.partitionIndex, partition.committedOffset, partition.committedLeaderEpoch, partition.metadata, partition.errorCode)
                    }
                }
            }
            return result
        }
    }

    /// Commits offsets for the group. A member passes its generation and member id; a client
    /// outside the group (admin, a consumer with a manual assignment) passes -1 and "", which
    /// the coordinator accepts while the group has no active members.
    public func commitOffsets(group: String, offsets: [TopicPartition: CommittedOffset], generationId: Int32 = -1, memberId: String = "",
                              groupInstanceId: String? = nil) async throws(KafkaClientError) {
        guard !offsets.isEmpty else { return }
        try await withCoordinator(group: group) { connection throws(KafkaClientError) in
            var byTopic: [String: [OffsetCommitRequest.OffsetCommitRequestPartition]] = [:]
            for (topicPartition, committed) in offsets {
                byTopic[topicPartition.topic, default: []].append(.init(partitionIndex: topicPartition.partition, committedOffset: committed.offset,
                                                                        committedLeaderEpoch: committed.leaderEpoch, committedMetadata: committed.metadata))
            }
            let response = try await connection.send(OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: generationId, memberId: memberId,
                                                                          groupInstanceId: groupInstanceId,
                                                                          topics: byTopic.map { .init(name: $0.key, partitions: $0.value) }))
            for topic in response.topics {
                for partition in topic.partitions {
                    try KafkaClientError.check(partition.errorCode, "OffsetCommit \(group) \(topic.name)-\(partition.partitionIndex)")
                }
            }
        }
    }

    /// Runs `body` against the group's coordinator, finding it again (once, after a short
    /// pause) when the answer says it moved or is loading.
    func withCoordinator<T: Sendable>(group: String, _ body: (BrokerConnection) async throws(KafkaClientError) -> T) async throws(KafkaClientError) -> T {
        var attempt = 0
        while true {
            do throws(KafkaClientError) {
                return try await body(try await coordinator(group: group))
            } catch {
                attempt += 1
                let moved: Bool
                switch error {
                case .broker(.notCoordinator, _), .broker(.coordinatorNotAvailable, _), .broker(.coordinatorLoadInProgress, _),
                     .connectionClosed, .connectionFailed, .requestTimedOut:
                    moved = true
                default:
                    moved = false
                }
                guard moved, attempt < 5 else { throw error }
                forgetCoordinator(group: group)
                try? await Task.sleep(nanoseconds: UInt64(config.retryBackoff.nanoseconds) * UInt64(attempt))
            }
        }
    }
}
