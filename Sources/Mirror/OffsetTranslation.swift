import KafkaClient

/// How a group's committed offset on a flow's source becomes a position on its target. A topic
/// the flow copies translates forward through the flow's own map. A topic that is itself the
/// replica of one of the target's topics (after a failover, consumers read `A.orders` on B; the
/// reverse flow B->A does not copy it back) translates backward, through the map of the opposite
/// flow A->B, to the original topic on A: so failing back lands consumers where they were, as
/// MM2 does by naming such checkpoints after the upstream topic. Under the identity policy the
/// replica and the copied topic are one topic: the lower of the two answers, so neither the
/// originals nor the copies of B's own records that the target holds are skipped.
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
    /// cannot be translated (yet).
    func translate(_ partition: TopicPartition, _ committed: Int64, forward: some ForwardOffsets) -> (TopicPartition, Int64)? {
        let remote = flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic)
        if let original = originals[partition.topic], let back = reverse.partitions[TopicPartition(original, partition.partition)]?.reverseTranslate(committed) {
            let upstream = TopicPartition(original, partition.partition)
            // A replica this flow does not copy (`A.orders` back to A): the way back is the answer.
            guard remote == original && flow.replicates(partition.topic) else { return (upstream, back) }
            // One topic holds the replica and this side's own records, and the target holds the
            // originals and copies of those records, interleaved: a consumer must land before
            // the first of either it has not read. Without the forward side's answer, wait.
            guard forward.covers(partition, committed) else { return nil }
            // Past the originals the consumer read come copies of this side's records: those it
            // read here are skipped too.
            var resume = back
            for _ in 0..<Self.maxSkips {
                guard let copies = forward.run(partition, holdingTarget: resume) else { break }
                let read = copies.targetOffset + (committed - copies.sourceOffset)
                guard read > resume else { break }
                resume = min(copies.targetEnd, read)
            }
            return (upstream, forward.translate(partition, committed).map { min($0, resume) } ?? resume)
        }
        guard flow.replicates(partition.topic), forward.covers(partition, committed), let offset = forward.translate(partition, committed) else { return nil }
        return (TopicPartition(remote, partition.partition), offset)
    }

    /// Bounds the walk over this side's copies (each step crosses one run).
    private static let maxSkips = 10_000

    /// The opposite flow's map, from this flow's source cluster.
    static func loadReverse(flow: FlowSettings, source: KafkaCluster) async throws(KafkaClientError) -> OffsetMap {
        try await OffsetMapStore.read(cluster: source, sourceAlias: flow.target)
    }
}

/// A flow's own, forward translation, and whether it may be used for an offset yet.
protocol ForwardOffsets {
    func covers(_ partition: TopicPartition, _ committed: Int64) -> Bool
    func translate(_ partition: TopicPartition, _ committed: Int64) -> Int64?
    /// The run whose copies include target offset `position`.
    func run(_ partition: TopicPartition, holdingTarget position: Int64) -> OffsetRun?
}

extension OffsetMapRecorder.DurableView: ForwardOffsets {
    func run(_ partition: TopicPartition, holdingTarget position: Int64) -> OffsetRun? {
        map.run(partition, holdingTarget: position)
    }
}

/// The map as read, for tools that look while the flow runs: everything in it may be used.
extension OffsetMap: ForwardOffsets {
    func covers(_ partition: TopicPartition, _ committed: Int64) -> Bool { true }

    func run(_ partition: TopicPartition, holdingTarget position: Int64) -> OffsetRun? {
        partitions[partition]?.run(holdingTarget: position)
    }
}
