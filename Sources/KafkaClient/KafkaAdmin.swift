import KafkaProtocol
import NIOCore

/// Administration of any Kafka-protocol cluster: topics, partitions, configs, groups and their
/// offsets, log offsets, cluster description. Each call is one round trip (two when the group
/// coordinator or a partition leader must be found first); errors keep Kafka's codes.
public struct KafkaAdmin: Sendable {
    public let cluster: KafkaCluster

    public init(cluster: KafkaCluster) {
        self.cluster = cluster
    }

    public struct NewTopic: Sendable {
        public var name: String
        public var partitions: Int32
        /// -1: the cluster's `default.replication.factor` (KIP-464).
        public var replicationFactor: Int16
        public var configs: [String: String]

        public init(name: String, partitions: Int32 = -1, replicationFactor: Int16 = -1, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    /// Admin requests go to the controller when it is known (Kafka forwards them anyway).
    private func controller() async throws(KafkaClientError) -> BrokerConnection {
        let metadata = try await cluster.refreshMetadata(topics: [])
        if metadata.controllerId >= 0, let connection = try? await cluster.connection(to: metadata.controllerId) { return connection }
        return try await cluster.anyConnection()
    }

    static func failure(_ code: Int16, _ message: String?, _ context: String) -> KafkaClientError? {
        guard code != 0 else { return nil }
        let error = KafkaClientError.from(code, context + (message.map { " (\($0))" } ?? ""))
        return error
    }

    // MARK: - Topics

    /// Creates topics; the result has an entry for each topic that failed.
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false, timeoutMs: Int32 = 30000) async throws(KafkaClientError) -> [String: KafkaClientError] {
        let request = CreateTopicsRequest(topics: topics.map {
            .init(name: $0.name, numPartitions: $0.partitions, replicationFactor: $0.replicationFactor, assignments: [],
                  configs: $0.configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })
        }, timeoutMs: timeoutMs, validateOnly: validateOnly)
        let response = try await controller().send(request)
        var failures: [String: KafkaClientError] = [:]
        for topic in response.topics {
            if let error = Self.failure(topic.errorCode, topic.errorMessage, "CreateTopics \(topic.name)") { failures[topic.name] = error }
        }
        if failures.count < topics.count { await cluster.invalidateMetadata() }
        return failures
    }

    public func createTopic(_ topic: NewTopic) async throws(KafkaClientError) {
        if let error = try await createTopics([topic])[topic.name] { throw error }
    }

    public func deleteTopics(_ names: [String], timeoutMs: Int32 = 30000) async throws(KafkaClientError) -> [String: KafkaClientError] {
        let connection = try await controller()
        let version = try connection.version(.deleteTopics)
        let request = version >= 6
            ? DeleteTopicsRequest(topics: names.map { .init(name: $0, topicId: .zero) }, timeoutMs: timeoutMs)
            : DeleteTopicsRequest(topicNames: names, timeoutMs: timeoutMs)
        let response = try await connection.send(request)
        var failures: [String: KafkaClientError] = [:]
        for result in response.responses {
            let name = result.name ?? "\(result.topicId)"
            if let error = Self.failure(result.errorCode, result.errorMessage, "DeleteTopics \(name)") { failures[name] = error }
        }
        await cluster.invalidateMetadata()
        return failures
    }

    /// Raises topics' partition counts to the given totals.
    public func createPartitions(_ totals: [String: Int32], validateOnly: Bool = false) async throws(KafkaClientError) -> [String: KafkaClientError] {
        let response = try await controller().send(CreatePartitionsRequest(
            topics: totals.map { .init(name: $0.key, count: $0.value, assignments: nil) }, timeoutMs: 30000, validateOnly: validateOnly))
        var failures: [String: KafkaClientError] = [:]
        for result in response.results {
            if let error = Self.failure(result.errorCode, result.errorMessage, "CreatePartitions \(result.name)") { failures[result.name] = error }
        }
        await cluster.invalidateMetadata()
        return failures
    }

    /// Topic names (internal topics too when asked).
    public func listTopics(includeInternal: Bool = false) async throws(KafkaClientError) -> [String] {
        try await cluster.allTopics().topics.values.filter { includeInternal || !$0.isInternal }.map(\.name).sorted()
    }

    /// Partition metadata of topics (fresh from the cluster).
    public func describeTopics(_ names: [String]) async throws(KafkaClientError) -> [String: ClusterMetadata.Topic] {
        let metadata = try await cluster.refreshMetadata(topics: names)
        return metadata.topics.filter { names.contains($0.key) }
    }

    // MARK: - Configs

    public enum ConfigResource: Sendable, Hashable {
        case topic(String)
        case broker(Int32)

        var type: Int8 {
            switch self {
            case .topic: return 2
            case .broker: return 4
            }
        }

        var name: String {
            switch self {
            case .topic(let name): return name
            case .broker(let id): return String(id)
            }
        }
    }

    public struct ConfigEntry: Sendable, Equatable {
        public var value: String?
        /// Kafka's wire source: 1 dynamic topic, 4 static broker, 5 default, ...
        public var source: Int8
        public var isReadOnly: Bool
        public var isSensitive: Bool
        /// Set explicitly for this resource (a topic override or a dynamic broker setting).
        public var isOverride: Bool { source == 1 || source == 2 || source == 3 }
    }

    /// A broker's configs are answered by that broker; topic configs by `topicsAt`.
    private func connection(for resource: ConfigResource, topicsAt: () async throws(KafkaClientError) -> BrokerConnection) async throws(KafkaClientError) -> BrokerConnection {
        if case .broker(let id) = resource { return try await cluster.connection(to: id) }
        return try await topicsAt()
    }

    public func describeConfigs(_ resource: ConfigResource, keys: [String]? = nil) async throws(KafkaClientError) -> [String: ConfigEntry] {
        let response = try await connection(for: resource, topicsAt: cluster.anyConnection).send(DescribeConfigsRequest(
            resources: [.init(resourceType: resource.type, resourceName: resource.name, configurationKeys: keys)], includeSynonyms: false, includeDocumentation: false))
        guard let result = response.results.first else { throw .codec("DescribeConfigs answer without \(resource.name)") }
        if let error = Self.failure(result.errorCode, result.errorMessage, "DescribeConfigs \(resource.name)") { throw error }
        var entries: [String: ConfigEntry] = [:]
        for config in result.configs {
            entries[config.name] = ConfigEntry(value: config.value, source: config.configSource, isReadOnly: config.readOnly, isSensitive: config.isSensitive)
        }
        return entries
    }

    /// IncrementalAlterConfigs: sets some keys, removes others (back to their defaults).
    public func alterConfigs(_ resource: ConfigResource, set: [String: String] = [:], delete: [String] = [], validateOnly: Bool = false) async throws(KafkaClientError) {
        var configs = set.sorted { $0.key < $1.key }.map { IncrementalAlterConfigsRequest.AlterableConfig(name: $0.key, configOperation: 0, value: $0.value) }
        configs += delete.map { .init(name: $0, configOperation: 1, value: nil) }
        let response = try await connection(for: resource, topicsAt: controller).send(IncrementalAlterConfigsRequest(
            resources: [.init(resourceType: resource.type, resourceName: resource.name, configs: configs)], validateOnly: validateOnly))
        for result in response.responses {
            if let error = Self.failure(result.errorCode, result.errorMessage, "IncrementalAlterConfigs \(result.resourceName)") { throw error }
        }
    }

    // MARK: - Groups

    public struct GroupListing: Sendable, Equatable {
        public var groupId: String
        public var protocolType: String
        /// Empty when the broker does not report states (ListGroups before v4).
        public var state: String
    }

    /// Groups on every broker of the cluster.
    public func listGroups() async throws(KafkaClientError) -> [GroupListing] {
        let metadata = try await cluster.refreshMetadata(topics: [])
        var groups: [GroupListing] = []
        for node in metadata.brokers.keys.sorted() {
            let response = try await cluster.connection(to: node).send(ListGroupsRequest(statesFilter: []))
            try KafkaClientError.check(response.errorCode, "ListGroups on node \(node)")
            groups += response.groups.map { GroupListing(groupId: $0.groupId, protocolType: $0.protocolType, state: $0.groupState) }
        }
        return groups.sorted { $0.groupId < $1.groupId }
    }

    public struct GroupDescription: Sendable {
        public struct Member: Sendable {
            public var memberId: String
            public var groupInstanceId: String?
            public var clientId: String
            public var clientHost: String
            /// Decoded for groups of protocol type "consumer".
            public var assignment: [TopicPartition]
        }

        public var groupId: String
        public var state: String
        public var protocolType: String
        public var protocolName: String
        public var members: [Member]
    }

    public func describeGroup(_ group: String) async throws(KafkaClientError) -> GroupDescription {
        let response = try await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
            try await connection.send(DescribeGroupsRequest(groups: [group], includeAuthorizedOperations: false))
        }
        guard let described = response.groups.first(where: { $0.groupId == group }) else { throw .codec("DescribeGroups answer without \(group)") }
        try KafkaClientError.check(described.errorCode, "DescribeGroups \(group)")
        let members = described.members.map { member -> GroupDescription.Member in
            var assignment: [TopicPartition] = []
            if described.protocolType == "consumer", member.memberAssignment.readableBytes > 0,
               let decoded = try? ConsumerProtocolAssignment.decodeWithVersionPrefix(from: member.memberAssignment).message {
                assignment = decoded.assignedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic.topic, $0) } }
            }
            return GroupDescription.Member(memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                                           clientHost: member.clientHost, assignment: assignment.sorted())
        }
        return GroupDescription(groupId: group, state: described.groupState, protocolType: described.protocolType,
                                protocolName: described.protocolData, members: members)
    }

    public func deleteGroups(_ groups: [String]) async throws(KafkaClientError) -> [String: KafkaClientError] {
        var failures: [String: KafkaClientError] = [:]
        for group in groups {
            do throws(KafkaClientError) {
                let response = try await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
                    try await connection.send(DeleteGroupsRequest(groupsNames: [group]))
                }
                for result in response.results {
                    if let error = Self.failure(result.errorCode, nil, "DeleteGroups \(result.groupId)") { failures[result.groupId] = error }
                }
            } catch {
                failures[group] = error
            }
        }
        return failures
    }

    public func listGroupOffsets(_ group: String, partitions: [TopicPartition]? = nil) async throws(KafkaClientError) -> [TopicPartition: KafkaCluster.CommittedOffset] {
        try await cluster.committedOffsets(group: group, partitions: partitions)
    }

    /// Sets a group's committed offsets; the group must have no active members.
    public func alterGroupOffsets(_ group: String, offsets: [TopicPartition: KafkaCluster.CommittedOffset]) async throws(KafkaClientError) {
        try await cluster.commitOffsets(group: group, offsets: offsets)
    }

    public func deleteGroupOffsets(_ group: String, partitions: [TopicPartition]) async throws(KafkaClientError) {
        var byTopic: [String: [Int32]] = [:]
        for partition in partitions { byTopic[partition.topic, default: []].append(partition.partition) }
        let response = try await cluster.withCoordinator(group: group) { connection throws(KafkaClientError) in
            try await connection.send(OffsetDeleteRequest(groupId: group, topics: byTopic.map {
                .init(name: $0.key, partitions: $0.value.map { .init(partitionIndex: $0) })
            }))
        }
        try KafkaClientError.check(response.errorCode, "OffsetDelete \(group)")
        for topic in response.topics {
            for partition in topic.partitions { try KafkaClientError.check(partition.errorCode, "OffsetDelete \(group) \(topic.name)-\(partition.partitionIndex)") }
        }
    }

    // MARK: - Offsets and records

    public enum OffsetSpec: Sendable {
        case earliest, latest, maxTimestamp
        case timestamp(Int64)

        var wire: Int64 {
            switch self {
            case .earliest: return -2
            case .latest: return -1
            case .maxTimestamp: return -3
            case .timestamp(let value): return value
            }
        }
    }

    /// Partition-level requests go to each partition's leader.
    private func byLeader(_ partitions: [TopicPartition]) async throws(KafkaClientError) -> [Int32: [TopicPartition]] {
        _ = try await cluster.watch(Array(Set(partitions.map(\.topic))))
        var byNode: [Int32: [TopicPartition]] = [:]
        for partition in partitions {
            byNode[try await cluster.leader(topic: partition.topic, partition: partition.partition).nodeId, default: []].append(partition)
        }
        return byNode
    }

    public struct ListedOffset: Sendable, Equatable {
        public var offset: Int64
        public var timestamp: Int64
        public var leaderEpoch: Int32
    }

    /// ListOffsets at each partition's leader. A timestamp after the last record gives -1.
    public func listOffsets(_ specs: [TopicPartition: OffsetSpec], readCommitted: Bool = false) async throws(KafkaClientError) -> [TopicPartition: ListedOffset] {
        var result: [TopicPartition: ListedOffset] = [:]
        for (node, partitions) in try await byLeader(Array(specs.keys)) {
            var topics: [String: [ListOffsetsRequest.ListOffsetsPartition]] = [:]
            for partition in partitions {
                topics[partition.topic, default: []].append(.init(partitionIndex: partition.partition, currentLeaderEpoch: -1, timestamp: specs[partition]!.wire))
            }
            let response = try await cluster.connection(to: node).send(ListOffsetsRequest(
                replicaId: -1, isolationLevel: readCommitted ? 1 : 0, topics: topics.map { .init(name: $0.key, partitions: $0.value) }))
            for topic in response.topics {
                for partition in topic.partitions {
                    try KafkaClientError.check(partition.errorCode, "ListOffsets \(topic.name)-\(partition.partitionIndex)")
                    result[TopicPartition(topic.name, partition.partitionIndex)] = ListedOffset(offset: partition.offset, timestamp: partition.timestamp,
                                                                                               leaderEpoch: partition.leaderEpoch)
                }
            }
        }
        return result
    }

    /// DeleteRecords: moves each partition's log start up to the offset. Returns the new starts.
    public func deleteRecords(_ before: [TopicPartition: Int64]) async throws(KafkaClientError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for (node, partitions) in try await byLeader(Array(before.keys)) {
            var topics: [String: [DeleteRecordsRequest.DeleteRecordsPartition]] = [:]
            for partition in partitions { topics[partition.topic, default: []].append(.init(partitionIndex: partition.partition, offset: before[partition]!)) }
            let response = try await cluster.connection(to: node).send(DeleteRecordsRequest(topics: topics.map { .init(name: $0.key, partitions: $0.value) }, timeoutMs: 30000))
            for topic in response.topics {
                for partition in topic.partitions {
                    try KafkaClientError.check(partition.errorCode, "DeleteRecords \(topic.name)-\(partition.partitionIndex)")
                    result[TopicPartition(topic.name, partition.partitionIndex)] = partition.lowWatermark
                }
            }
        }
        return result
    }

    // MARK: - Cluster

    public struct ClusterDescription: Sendable {
        public var clusterId: String?
        public var controllerId: Int32
        public var brokers: [Int32: BrokerAddress]
    }

    /// DescribeCluster where the broker has it, Metadata otherwise.
    public func describeCluster() async throws(KafkaClientError) -> ClusterDescription {
        let connection = try await cluster.anyConnection()
        if connection.versions.version(.describeCluster) != nil {
            let response = try await connection.send(DescribeClusterRequest(includeClusterAuthorizedOperations: false))
            if let error = Self.failure(response.errorCode, response.errorMessage, "DescribeCluster") { throw error }
            return ClusterDescription(clusterId: response.clusterId, controllerId: response.controllerId,
                                      brokers: Dictionary(response.brokers.map { ($0.brokerId, BrokerAddress(host: $0.host, port: Int($0.port))) }, uniquingKeysWith: { $1 }))
        }
        let metadata = try await cluster.refreshMetadata(topics: [])
        return ClusterDescription(clusterId: metadata.clusterId, controllerId: metadata.controllerId, brokers: metadata.brokers)
    }
}
