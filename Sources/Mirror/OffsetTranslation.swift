import KafkaClient

/// How a group's committed offset on a flow's source becomes a position on its target. A topic
/// the flow copies translates forward through the flow's own map. A topic that is itself the
/// replica of one of the target's topics (after a failover, consumers read `A.orders` on B; the
/// reverse flow B->A does not copy it back) translates backward, through the map of the opposite
/// flow A->B, to the original topic on A: so failing back lands consumers where they were, as
/// MM2 does by naming such checkpoints after the upstream topic. Under the identity policy the
/// replica and the copied topic are one topic: positions within the replicated part go back,
/// later ones (records written on B after the failover) forward.
struct OffsetTranslation: Sendable {
    let flow: FlowSettings
    /// The opposite flow's map (its runs are keyed by the target cluster's topics), as read from
    /// this flow's source cluster; empty when there is none.
    let reverse: OffsetMap
    /// Replica name on the source -> original topic on the target, for the reverse map's topics.
    private let originals: [String: String]

    init(flow: FlowSettings, reverse: OffsetMap) {
        self.flow = flow
        self.reverse = reverse
        var originals: [String: String] = [:]
        for partition in reverse.partitions.keys {
            originals[flow.policy.formatRemoteTopic(sourceAlias: flow.target, topic: partition.topic)] = partition.topic
        }
        self.originals = originals
    }

    /// The target partition and offset for `committed` on source `partition`, or nil when it
    /// cannot be translated (yet). `forward` is the flow's own translation.
    func translate(_ partition: TopicPartition, _ committed: Int64, forward: (TopicPartition, Int64) -> Int64?) -> (TopicPartition, Int64)? {
        if let original = originals[partition.topic] {
            let upstream = TopicPartition(original, partition.partition)
            if let runs = reverse.partitions[upstream], let end = runs.runs.last?.targetEnd, committed <= end,
               let offset = runs.reverseTranslate(committed) {
                return (upstream, offset)
            }
        }
        guard flow.replicates(partition.topic), let offset = forward(partition, committed) else { return nil }
        return (TopicPartition(flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic), partition.partition), offset)
    }

    /// The opposite flow's map, from this flow's source cluster.
    static func loadReverse(flow: FlowSettings, source: KafkaCluster) async throws(KafkaClientError) -> OffsetMap {
        try await OffsetMapStore.read(cluster: source, sourceAlias: flow.target)
    }
}
