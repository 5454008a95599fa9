import KafkaClient
import KafkaProtocol

/// Which clusters replicate into which, as the heartbeats on each cluster tell: a cluster holds
/// its inbound flows' heartbeats in `heartbeats` and, copied on by those flows, the heartbeats
/// of every flow further upstream (`B.heartbeats`, `C.B.heartbeats`, ...). A cluster's upstream
/// clusters, with hop counts, are therefore read from that cluster alone.
public struct ReplicationTopology: Encodable, Sendable {
    public struct Edge: Encodable, Hashable, Sendable {
        public var source: String
        public var target: String
        /// The newest heartbeat of the flow seen anywhere (ms since the epoch).
        public var timestamp: Int64
    }

    public struct Cluster: Encodable, Sendable {
        /// Hops from each upstream cluster (1: a flow into this cluster).
        public var upstream: [String: Int]
    }

    public var edges: [Edge]
    public var clusters: [String: Cluster]
    /// Clusters that could not be read, with the reason.
    public var unreachable: [String: String]

    /// Reads the heartbeat topics of every cluster of the configuration.
    public static func read(_ configuration: MirrorConfiguration) async -> ReplicationTopology {
        let policies = configuration.flows.map(\.policy)
        var newest: [String: Edge] = [:]
        var clusters: [String: Cluster] = [:]
        var unreachable: [String: String] = [:]
        for alias in configuration.clusters.keys.sorted() {
            let cluster = KafkaCluster(config: configuration.clusters[alias]!.client)
            do throws(KafkaClientError) {
                var seen: [(source: String, target: String)] = []
                for topic in try await KafkaAdmin(cluster: cluster).listTopics()
                where topic == "heartbeats" || policies.contains(where: { $0.isHeartbeatsTopic(topic) }) {
                    for record in try await InternalTopic(cluster: cluster, name: topic).readAll() {
                        guard let key = record.key, let value = record.value, let heartbeat = try? Heartbeat(key: key, value: value) else { continue }
                        seen.append((heartbeat.sourceClusterAlias, heartbeat.targetClusterAlias))
                        let id = "\(heartbeat.sourceClusterAlias)->\(heartbeat.targetClusterAlias)"
                        if (newest[id]?.timestamp ?? .min) < heartbeat.timestamp {
                            newest[id] = Edge(source: heartbeat.sourceClusterAlias, target: heartbeat.targetClusterAlias, timestamp: heartbeat.timestamp)
                        }
                    }
                }
                clusters[alias] = Cluster(upstream: hops(into: alias, edges: seen))
            } catch {
                unreachable[alias] = "\(error)"
            }
            await cluster.close()
        }
        return ReplicationTopology(edges: newest.values.sorted { ($0.source, $0.target) < ($1.source, $1.target) }, clusters: clusters,
                                   unreachable: unreachable)
    }

    /// Breadth-first, against the flows' direction: the fewest hops from each upstream cluster.
    static func hops(into alias: String, edges: [(source: String, target: String)]) -> [String: Int] {
        var distance: [String: Int] = [alias: 0]
        var frontier = [alias]
        while !frontier.isEmpty {
            var next: [String] = []
            for cluster in frontier {
                for edge in edges where edge.target == cluster && distance[edge.source] == nil {
                    distance[edge.source] = distance[cluster]! + 1
                    next.append(edge.source)
                }
            }
            frontier = next
        }
        distance[alias] = nil
        return distance
    }
}
