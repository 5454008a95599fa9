import KafkaProtocol
import KafkaSecurity

/// 19 CreateTopics: partitions, config overrides and validate-only. A single node can only
/// hold replication factor 1; -1 (KIP-464) means the broker default, which is 1.
struct CreateTopicsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async -> CreateTopicsResponse {
        let describer = ConfigDescriber(registry: broker.registry)
        var seen: [String: Int] = [:]
        for topic in request.topics { seen[topic.name, default: 0] += 1 }
        return CreateTopicsResponse(topics: request.topics.map { topic in
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name, topicId: .zero, numPartitions: -1, replicationFactor: -1, configs: nil)
            do {
                guard context.allowsCluster(.create) || context.allows(.create, .topic, topic.name) else {
                    throw KafkaError(.topicAuthorizationFailed, "Authorization failed.")
                }
                if seen[topic.name]! > 1 { throw KafkaError(.invalidRequest, "Create topics request from client `\(context.clientId ?? "")` contains multiple entries for the following topics: \(topic.name)") }
                guard topic.replicationFactor == -1 || topic.replicationFactor == 1 || !topic.assignments.isEmpty else {
                    throw KafkaError(.invalidReplicationFactor, "Replication factor: \(topic.replicationFactor) larger than available brokers: 1.")
                }
                var partitions = topic.numPartitions
                if !topic.assignments.isEmpty {
                    guard topic.numPartitions == -1, topic.replicationFactor == -1 else {
                        throw KafkaError(.invalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
                    }
                    let indexes = topic.assignments.map(\.partitionIndex).sorted()
                    guard indexes == Array(0..<Int32(indexes.count)), topic.assignments.allSatisfy({ $0.brokerIds == [broker.nodeId] }) else {
                        throw KafkaError(.invalidReplicaAssignment, "Replica assignments must place each partition 0..n-1 on broker \(broker.nodeId) alone.")
                    }
                    partitions = Int32(indexes.count)
                }
                var configs: [String: String] = [:]
                for config in topic.configs {
                    guard let value = config.value else { throw KafkaError(.invalidConfig, "Null value not supported for topic configs: \(config.name)") }
                    configs[config.name] = value
                }
                let metadata = try broker.registry.create(name: topic.name, partitions: partitions, configs: configs,
                                                          validateOnly: request.validateOnly, nowMs: broker.nowMs())
                result.topicId = request.validateOnly ? .zero : metadata.id
                result.numPartitions = metadata.partitionCount
                result.replicationFactor = 1
                result.configs = describer.topicEntries(metadata).map {
                    .init(name: $0.name, value: $0.value, readOnly: $0.readOnly, configSource: $0.source.rawValue, isSensitive: false)
                }
            } catch let error as KafkaError {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            } catch {
                result.errorCode = ErrorCode.unknownServerError.rawValue
                result.errorMessage = "\(error)"
            }
            return result
        })
    }
}
