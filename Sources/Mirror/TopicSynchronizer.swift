import KafkaClient
import KafkaProtocol
import Logging

/// Keeps a flow's target topics in step with the source: creates the topics the flow selects
/// (the source's partition count, its overridden configs minus the excluded ones, the flow's
/// replication factor), adds partitions when the source gained some, and copies config
/// changes. Config sync follows MM2: only settings overridden on the source travel, so the
/// target's own defaults stay in charge of the rest.
final class TopicSynchronizer: Sendable {
    let flow: FlowSettings
    let source: KafkaCluster
    let target: KafkaCluster
    private let logger: Logger

    /// Kafka's default `max.message.bytes`, used when the target does not say.
    static let defaultMaxMessageBytes = 1_048_588

    init(flow: FlowSettings, source: KafkaCluster, target: KafkaCluster, logger: Logger) {
        self.flow = flow
        self.source = source
        self.target = target
        self.logger = logger
    }

    /// One pass; `syncConfigs` also copies configs of existing topics.
    func sync(syncConfigs: Bool) async throws(KafkaClientError) -> [String: TopicMapping] {
        let sourceMetadata = try await source.allTopics()
        let selected = sourceMetadata.topics.values.filter { !$0.isInternal && $0.errorCode == 0 && flow.replicates($0.name) }
        guard !selected.isEmpty else { return [:] }
        let targetMetadata = try await target.allTopics()
        let sourceAdmin = KafkaAdmin(cluster: source)
        let targetAdmin = KafkaAdmin(cluster: target)
        var mappings: [String: TopicMapping] = [:]
        var toCreate: [KafkaAdmin.NewTopic] = []
        var toGrow: [String: Int32] = [:]
        for topic in selected.sorted(by: { $0.name < $1.name }) {
            let remote = flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: topic.name)
            let existing = targetMetadata.topics[remote]
            let configs = flow.syncTopicConfigs && (existing == nil || syncConfigs) ? try await replicatedConfigs(topic.name, sourceAdmin) : [:]
            if let existing {
                if existing.partitions.count < topic.partitions.count { toGrow[remote] = Int32(topic.partitions.count) }
                if !configs.isEmpty { try await alignConfigs(remote, configs, targetAdmin) }
            } else {
                toCreate.append(.init(name: remote, partitions: Int32(topic.partitions.count), replicationFactor: flow.replicationFactor, configs: configs))
            }
            mappings[topic.name] = TopicMapping(sourceTopic: topic.name, targetTopic: remote, partitions: topic.partitions.count,
                                                targetPartitions: max(existing?.partitions.count ?? 0, topic.partitions.count),
                                                sourceTopicId: topic.topicId, maxMessageBytes: Self.defaultMaxMessageBytes)
        }
        if !toCreate.isEmpty {
            for (name, failure) in try await targetAdmin.createTopics(toCreate) {
                if case .broker(.topicAlreadyExists, _) = failure { continue }
                logger.error("cannot create \(name) on \(flow.target): \(failure)")
                mappings = mappings.filter { $0.value.targetTopic != name }
            }
            for topic in toCreate { logger.info("created \(topic.name) on \(flow.target) with \(topic.partitions) partitions") }
        }
        if !toGrow.isEmpty {
            let failures = try await targetAdmin.createPartitions(toGrow)
            for (name, count) in toGrow {
                if let failure = failures[name] {
                    logger.error("cannot add partitions to \(name) on \(flow.target): \(failure)")
                    let current = targetMetadata.topics[name]?.partitions.count ?? 0
                    for key in mappings.keys where mappings[key]!.targetTopic == name { mappings[key]!.targetPartitions = current }
                } else {
                    logger.info("\(name) on \(flow.target) now has \(count) partitions")
                }
            }
        }
        for (name, mapping) in mappings {
            let limit = try? await targetAdmin.describeConfigs(.topic(mapping.targetTopic), keys: ["max.message.bytes"])["max.message.bytes"]?.value.flatMap { Int($0) }
            mappings[name]!.maxMessageBytes = limit ?? Self.defaultMaxMessageBytes
        }
        return mappings
    }

    /// The source topic's overridden, replicable settings.
    private func replicatedConfigs(_ topic: String, _ admin: KafkaAdmin) async throws(KafkaClientError) -> [String: String] {
        var result: [String: String] = [:]
        for (key, entry) in try await admin.describeConfigs(.topic(topic)) where entry.source == 1 && !entry.isReadOnly && !entry.isSensitive {
            guard let value = entry.value, !flow.configPropertiesExclude.matches(key) else { continue }
            result[key] = value
        }
        return result
    }

    private func alignConfigs(_ topic: String, _ wanted: [String: String], _ admin: KafkaAdmin) async throws(KafkaClientError) {
        let current = try await admin.describeConfigs(.topic(topic), keys: Array(wanted.keys))
        let changed = wanted.filter { current[$0.key]?.value != $0.value }
        guard !changed.isEmpty else { return }
        try await admin.alterConfigs(.topic(topic), set: changed)
        logger.info("synced \(changed.keys.sorted().joined(separator: ", ")) of \(topic) on \(flow.target)")
    }
}
