import KafkaProtocol
import NIOCore
import NIOPosix

/// A client's view of one Kafka-protocol cluster: one connection per broker (opened on demand,
/// reopened with exponential backoff), the bootstrap list, and cached metadata refreshed on
/// request, on errors that invalidate it, and every `metadata.max.age.ms`.
///
/// Producer, consumer and admin each hold one; nothing here knows which cluster it is talking
/// to, so it works the same against Strait, Apache Kafka, Redpanda or Tansu.
public actor KafkaCluster {
    public nonisolated let config: KafkaClientConfig
    nonisolated let group: EventLoopGroup
    private var connections: [Int32: Task<BrokerConnection, Error>] = [:]
    private var bootstrapConnection: BrokerConnection?
    private var failures: [Int32: (count: Int, retryAt: NIODeadline)] = [:]
    private(set) var metadata = ClusterMetadata()
    private var lastRefresh: NIODeadline = .uptimeNanoseconds(0)
    /// Topics some user of this cluster cares about; periodic refreshes ask for these.
    private var watchedTopics: Set<String> = []
    private var coordinators: [String: Int32] = [:]
    private var closed = false

    public init(config: KafkaClientConfig, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.config = config
        self.group = group
    }

    public var currentMetadata: ClusterMetadata { metadata }

    /// The connection to broker `nodeId`, opening it if needed.
    public func connection(to nodeId: Int32) async throws(KafkaClientError) -> BrokerConnection {
        guard !closed else { throw .closed }
        if let task = connections[nodeId] {
            if let open = try? await task.value, open.isActive { return open }
            if connections[nodeId] == task { connections[nodeId] = nil }
        }
        if metadata.brokers[nodeId] == nil { try await refreshMetadata() }
        guard let address = metadata.brokers[nodeId] else { throw .connectionFailed(broker: "node \(nodeId)", reason: "not in the cluster's metadata") }
        if let failure = failures[nodeId], failure.retryAt > .now() {
            try? await Task.sleep(nanoseconds: UInt64(max(0, (failure.retryAt - .now()).nanoseconds)))
        }
        let config = self.config
        let group = self.group
        let task = Task { try await BrokerConnection.connect(to: address, nodeId: nodeId, config: config, group: group) }
        connections[nodeId] = task
        do {
            let connection = try await task.value
            failures[nodeId] = nil
            return connection
        } catch {
            if connections[nodeId] == task { connections[nodeId] = nil }
            let count = (failures[nodeId]?.count ?? 0) + 1
            failures[nodeId] = (count, .now() + config.reconnectDelay(attempt: count - 1))
            throw (error as? KafkaClientError) ?? .connectionFailed(broker: address.description, reason: SocketErrorText.describe(error))
        }
    }

    /// Any usable connection: a known broker's, else one to a bootstrap server (tried in order).
    public func anyConnection() async throws(KafkaClientError) -> BrokerConnection {
        guard !closed else { throw .closed }
        for task in connections.values {
            if let open = try? await task.value, open.isActive { return open }
        }
        if let bootstrapConnection, bootstrapConnection.isActive { return bootstrapConnection }
        var lastError = KafkaClientError.connectionFailed(broker: "bootstrap", reason: "no bootstrap server")
        for node in metadata.brokers.keys.sorted() {
            if let connection = try? await connection(to: node) { return connection }
        }
        for address in config.bootstrapServers.shuffled() {
            do {
                let connection = try await BrokerConnection.connect(to: address, nodeId: nil, config: config, group: group)
                bootstrapConnection = connection
                return connection
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Asks the cluster about `topics` (the watched topics when nil) and folds the answer into the
    /// cache. `autoCreate` lets brokers with `auto.create.topics.enable` create missing ones.
    @discardableResult
    public func refreshMetadata(topics: [String]? = nil, autoCreate: Bool = false) async throws(KafkaClientError) -> ClusterMetadata {
        // An empty list asks for brokers only (from v1).
        let names = topics ?? Array(watchedTopics)
        let connection = try await anyConnection()
        let request = MetadataRequest(topics: names.map { MetadataRequest.MetadataRequestTopic(name: $0) }, allowAutoTopicCreation: autoCreate)
        let response = try await connection.send(request)
        metadata.merge(response)
        lastRefresh = .now()
        return metadata
    }

    /// Metadata for every topic of the cluster.
    public func allTopics() async throws(KafkaClientError) -> ClusterMetadata {
        let connection = try await anyConnection()
        let version = try connection.version(.metadata)
        // A null topic list asks for all topics from v1; v0 used an empty list for that.
        let response = try await connection.send(MetadataRequest(topics: version >= 1 ? nil : [], allowAutoTopicCreation: false))
        metadata.merge(response, complete: true)
        lastRefresh = .now()
        return metadata
    }

    /// Remembers topics for periodic refreshes and makes sure their metadata is cached.
    /// `autoCreate` applies to `topics` alone: the cluster is shared, and a producer's lookup must
    /// not bring back a topic another client watches after it was deleted.
    public func watch(_ topics: [String], autoCreate: Bool = false) async throws(KafkaClientError) -> ClusterMetadata {
        let missing = topics.filter { metadata.topics[$0] == nil }
        watchedTopics.formUnion(topics)
        if autoCreate && !missing.isEmpty {
            try await refreshMetadata(topics: missing, autoCreate: true)
        }
        if (!autoCreate && !missing.isEmpty) || lastRefresh + config.metadataMaxAge < .now() {
            try await refreshMetadata(topics: Array(watchedTopics))
        }
        return metadata
    }

    /// Metadata no older than `metadata.max.age.ms`.
    public func freshMetadata() async throws(KafkaClientError) -> ClusterMetadata {
        if lastRefresh + config.metadataMaxAge < .now() { try await refreshMetadata(topics: Array(watchedTopics)) }
        return metadata
    }

    /// Marks the cache stale: the next `freshMetadata` asks the cluster again.
    public func invalidateMetadata() {
        lastRefresh = .uptimeNanoseconds(0)
    }

    /// Drops a broker's connection after a transport error, so the next use reconnects.
    public func dropConnection(to nodeId: Int32) async {
        if let task = connections.removeValue(forKey: nodeId), let connection = try? await task.value { connection.close() }
    }

    /// The leader of a partition, refreshing metadata once when it is unknown.
    public func leader(topic: String, partition: Int32) async throws(KafkaClientError) -> (nodeId: Int32, epoch: Int32) {
        if let known = metadata.leader(topic: topic, partition: partition) { return known }
        try await refreshMetadata(topics: Array(watchedTopics.union([topic])))
        if let known = metadata.leader(topic: topic, partition: partition) { return known }
        if metadata.topics[topic] == nil { throw .unknownTopic(topic) }
        throw .leaderNotAvailable(topic: topic, partition: partition)
    }

    /// The connection to the group's coordinator (FindCoordinator, cached until forgotten).
    public func coordinator(group: String) async throws(KafkaClientError) -> BrokerConnection {
        if let node = coordinators[group] { return try await connection(to: node) }
        let connection = try await anyConnection()
        let version = try connection.version(.findCoordinator)
        let response = try await connection.send(FindCoordinatorRequest(key: group, keyType: 0, coordinatorKeys: [group]))
        let node: Int32
        if version >= 4 {
            guard let entry = response.coordinators.first(where: { $0.key == group }) else { throw .codec("FindCoordinator answer without \(group)") }
            try KafkaClientError.check(entry.errorCode, "FindCoordinator for group \(group)")
            node = entry.nodeId
        } else {
            try KafkaClientError.check(response.errorCode, "FindCoordinator for group \(group)")
            node = response.nodeId
        }
        coordinators[group] = node
        return try await self.connection(to: node)
    }

    /// Forgets a group's coordinator after NOT_COORDINATOR or a lost connection.
    public func forgetCoordinator(group: String) {
        coordinators[group] = nil
    }

    public func close() async {
        closed = true
        for task in connections.values { (try? await task.value)?.close() }
        connections = [:]
        bootstrapConnection?.close()
        bootstrapConnection = nil
    }
}
