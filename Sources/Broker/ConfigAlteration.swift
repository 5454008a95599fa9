import KafkaProtocol

/// Applies a change to the overrides of a topic or of the broker (dynamic settings), shared by
/// AlterConfigs and IncrementalAlterConfigs.
struct ConfigAlteration {
    let broker: BrokerContext

    /// `change` maps the current overrides to the new ones; returns the error, if any.
    func apply(resourceType: Int8, name: String, validateOnly: Bool, change: ([String: String]) throws(KafkaError) -> [String: String]) -> KafkaError? {
        do throws(KafkaError) {
            switch resourceType {
            case ConfigDescriber.topicResource:
                guard let topic = broker.registry.topic(named: name) else {
                    throw KafkaError(.unknownTopicOrPartition, "Topic \(name) does not exist.")
                }
                try broker.registry.setConfigs(name: name, configs: try change(topic.metadata.configs), validateOnly: validateOnly)
            case ConfigDescriber.brokerResource:
                guard name.isEmpty || name == String(broker.nodeId) else {
                    throw KafkaError(.invalidRequest, "Unexpected broker id, expected \(broker.nodeId) or empty string, but received \(name)")
                }
                try broker.registry.setDynamicBrokerConfigs(try change(broker.registry.dynamicBrokerSettings), validateOnly: validateOnly)
            default:
                throw KafkaError(.invalidRequest, "Unsupported resource type \(resourceType)")
            }
            return nil
        } catch {
            return error
        }
    }
}
