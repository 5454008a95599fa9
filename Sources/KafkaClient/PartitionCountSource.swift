/// Tells a group's leader how many partitions each subscribed topic has; topics it does not
/// know are left out.
public protocol PartitionCountSource: Sendable {
    func partitionCounts(of topics: Set<String>) async throws(KafkaClientError) -> [String: Int]
}

extension KafkaCluster: PartitionCountSource {
    public func partitionCounts(of topics: Set<String>) async throws(KafkaClientError) -> [String: Int] {
        let metadata = try await watch(Array(topics))
        return topics.reduce(into: [:]) { $0[$1] = metadata.partitionCount($1) }
    }
}
