import KafkaProtocol
import KafkaSecurity

/// 3 Metadata: this broker as the only node, leader and sole replica of every partition.
struct MetadataHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: MetadataRequest, context: RequestContext) async -> MetadataResponse {
        let registry = broker.registry
        var topics: [MetadataResponse.MetadataResponseTopic] = []
        if let requested = request.topics {
            for entry in requested {
                if let name = entry.name {
                    if !context.allows(.describe, .topic, name) {
                        topics.append(.init(errorCode: ErrorCode.topicAuthorizationFailed.rawValue, name: name, topicId: .zero))
                    } else if let topic = registry.topic(named: name) {
                        topics.append(describe(topic))
                    } else if autoCreateAllowed(request, context), let created = broker.autoCreating(name, context: context) {
                        switch created {
                        case .success(let topic): topics.append(describe(topic))
                        case .failure(let error): topics.append(.init(errorCode: error.code.rawValue, name: name, topicId: .zero))
                        }
                    } else {
                        let code: ErrorCode = TopicName.problem(with: name) == nil ? .unknownTopicOrPartition : .invalidTopicException
                        topics.append(.init(errorCode: code.rawValue, name: name, topicId: .zero))
                    }
                } else if let topic = registry.topic(id: entry.topicId), context.allows(.describe, .topic, topic.metadata.name) {
                    topics.append(describe(topic))
                } else {
                    topics.append(.init(errorCode: ErrorCode.unknownTopicId.rawValue, name: nil, topicId: entry.topicId))
                }
            }
        } else {
            // An all-topics listing leaves out what the client may not describe, silently.
            topics = registry.allTopics().filter { context.allows(.describe, .topic, $0.metadata.name) }.map(describe)
        }
        let listener = broker.config.listener(named: context.listenerName)
        return MetadataResponse(
            brokers: [.init(nodeId: broker.nodeId, host: listener.advertisedHost, port: Int32(listener.advertisedPort), rack: nil)],
            clusterId: broker.clusterId,
            controllerId: broker.nodeId,
            topics: topics
        )
    }

    /// v4+ lets the client say whether to auto-create; earlier versions always may.
    private func autoCreateAllowed(_ request: MetadataRequest, _ context: RequestContext) -> Bool {
        context.apiVersion < 4 || request.allowAutoTopicCreation
    }

    private func describe(_ topic: TopicRegistry.Topic) -> MetadataResponse.MetadataResponseTopic {
        let node = broker.nodeId
        return .init(
            errorCode: 0,
            name: topic.metadata.name,
            topicId: topic.metadata.id,
            isInternal: TopicName.isInternal(topic.metadata.name),
            partitions: topic.partitions.map { log in
                .init(errorCode: 0, partitionIndex: log.partition, leaderId: node, leaderEpoch: log.leaderEpoch,
                      replicaNodes: [node], isrNodes: [node], offlineReplicas: [])
            }
        )
    }
}
