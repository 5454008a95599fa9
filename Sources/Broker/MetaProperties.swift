import KafkaProtocol
import LogStore

/// `<data>/meta.properties`, as Kafka writes it: `version`, `node.id` and `cluster.id`. It ties
/// a data directory to one node of one cluster; a mismatch at start is an error, not a reset.
enum MetaProperties {
    /// Returns the cluster id, writing the file on first start (generating an id if none given).
    static func load(config: BrokerConfig) throws(KafkaError) -> String {
        let path = config.dataDirectory + "/meta.properties"
        if let text = FileSystem.readText(path) {
            let values = PropertiesFile.parse(text)
            guard let stored = values["cluster.id"], let node = values["node.id"].flatMap(Int32.init) else {
                throw KafkaError(.kafkaStorageError, "\(path) lacks cluster.id or node.id")
            }
            if let wanted = config.clusterId, wanted != stored {
                throw KafkaError(.inconsistentClusterId, "data directory \(config.dataDirectory) belongs to cluster \(stored), not \(wanted)")
            }
            if node != config.nodeId {
                throw KafkaError(.kafkaStorageError, "data directory \(config.dataDirectory) belongs to node \(node), not \(config.nodeId)")
            }
            return stored
        }
        let clusterId = config.clusterId ?? KafkaUUID.random().description
        do {
            try FileSystem.writeTextAtomically(PropertiesFile.render(["version": "1", "node.id": String(config.nodeId), "cluster.id": clusterId]), to: path)
        } catch {
            throw KafkaError(.kafkaStorageError, "\(error)")
        }
        return clusterId
    }
}
