import KafkaProtocol

/// A snapshot of what the cluster said in its last Metadata answers: brokers, controller and
/// the partitions of the topics asked about, with their leaders and leader epochs.
public struct ClusterMetadata: Sendable {
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        public var leader: Int32
        public var leaderEpoch: Int32
        public var replicas: [Int32]
        public var isr: [Int32]
        public var errorCode: Int16
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var topicId: KafkaUUID
        public var isInternal: Bool
        public var errorCode: Int16
        /// Indexed by partition number.
        public var partitions: [Partition]
    }

    public var clusterId: String?
    public var controllerId: Int32 = -1
    public var brokers: [Int32: BrokerAddress] = [:]
    public var topics: [String: Topic] = [:]

    public init() {}

    /// Folds in a Metadata answer: brokers and controller are replaced, topics asked about are
    /// replaced (or removed when the broker says they do not exist), others are kept unless
    /// the answer lists every topic (`complete`).
    mutating func merge(_ response: MetadataResponse, complete: Bool = false) {
        if complete { topics = topics.filter { name, _ in response.topics.contains { $0.name == name } } }
        clusterId = response.clusterId
        controllerId = response.controllerId
        brokers = Dictionary(response.brokers.map { ($0.nodeId, BrokerAddress(host: $0.host, port: Int($0.port))) }, uniquingKeysWith: { $1 })
        for topic in response.topics {
            guard let name = topic.name else { continue }
            if topic.errorCode == ErrorCode.unknownTopicOrPartition.rawValue || topic.errorCode == ErrorCode.invalidTopicException.rawValue {
                topics[name] = nil
                continue
            }
            let partitions = topic.partitions.sorted { $0.partitionIndex < $1.partitionIndex }.map {
                Partition(partition: $0.partitionIndex, leader: $0.leaderId, leaderEpoch: $0.leaderEpoch,
                          replicas: $0.replicaNodes, isr: $0.isrNodes, errorCode: $0.errorCode)
            }
            // A partial answer (leader election in progress) keeps what we knew.
            if topic.errorCode != 0, topics[name] != nil { continue }
            topics[name] = Topic(name: name, topicId: topic.topicId, isInternal: topic.isInternal, errorCode: topic.errorCode, partitions: partitions)
        }
    }

    /// The partition's leader and epoch, when one is known.
    public func leader(topic: String, partition: Int32) -> (nodeId: Int32, epoch: Int32)? {
        guard let info = topics[topic], partition >= 0, Int(partition) < info.partitions.count else { return nil }
        let entry = info.partitions[Int(partition)]
        guard entry.partition == partition, entry.leader >= 0, brokers[entry.leader] != nil else { return nil }
        return (entry.leader, entry.leaderEpoch)
    }

    public func partitionCount(_ topic: String) -> Int? { topics[topic]?.partitions.count }
}
