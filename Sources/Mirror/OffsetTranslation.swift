import KafkaClient

/// How a group's committed offset on a flow's source becomes a position on its target. A topic
/// the flow copies translates forward through the flow's own map. A topic that is itself the
/// replica of one of the target's topics (after a failover, consumers read `A.orders` on B; the
/// reverse flow B->A does not copy it back) translates backward, through the map of the opposite
/// flow A->B, to the original topic on A: so failing back lands consumers where they were, as
/// MM2 does by naming such checkpoints after the upstream topic. Under the identity policy the
/// replica and the copied topic are one topic: the target holds its originals and copies of B's
/// records interleaved, and the consumer lands on the first of either it has not read.
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

    /// Whether the topic translates through this flow's own map (it is not a replica of one of
    /// the target's topics).
    func translatesForward(_ topic: String) -> Bool {
        originals[topic] == nil
    }

    /// The target partition and offset for `committed` on source `partition`, or nil when it
    /// cannot be translated (yet).
    func translate(_ partition: TopicPartition, _ committed: Int64, forward: some ForwardOffsets) -> (TopicPartition, Int64)? {
        let remote = flow.policy.formatRemoteTopic(sourceAlias: flow.source, topic: partition.topic)
        guard let original = originals[partition.topic] else {
            guard flow.replicates(partition.topic), forward.covers(partition, committed), let offset = forward.translate(partition, committed) else { return nil }
            return (TopicPartition(remote, partition.partition), offset)
        }
        let upstream = TopicPartition(original, partition.partition)
        // A replica this flow does not copy (`A.orders` going back to A), or, under the identity
        // policy, one topic holding both the replica and this side's own records.
        let shared = remote == original && flow.replicates(partition.topic)
        let replica = reverse.partitions[upstream]
        var resume: Int64
        if let replica, let first = replica.runs.first {
            // A map begun late (a takeover) says nothing of the copies below its first run.
            if reverse.mappedFrom[upstream] != nil && committed < first.targetOffset { return nil }
            resume = replica.reverseTranslate(committed) ?? 0
        } else if shared && reverse.mappedFrom[upstream] == nil {
            // Nothing of the target's originals came here: the consumer read none of them.
            resume = 0
        } else {
            return nil
        }
        guard shared else { return (upstream, resume) }
        // The target holds its originals and the copies of this side's records, interleaved:
        // land on the first of either the consumer has not read. Without the forward side's
        // answer, wait (below this flow's own late-begun map, for good).
        guard forward.covers(partition, committed) else { return nil }
        let ahead = forward.translate(partition, committed)
        if ahead == nil && !forward.knowsNothing(partition) { return nil }
        resume = min(resume, ahead ?? resume)
        // From there, step over what the consumer read: copies of this side's records below
        // its position, and originals whose copy here lies below it.
        for _ in 0..<Self.maxSkips {
            if let copies = forward.run(partition, holdingTarget: resume) {
                let read = copies.targetOffset + (committed - copies.sourceOffset)
                guard read > resume else { break }
                resume = min(copies.targetEnd, read)
            } else if let originals = replica?.run(holdingSource: resume) {
                let read = originals.sourceOffset + (committed - originals.targetOffset)
                guard read > resume else { break }
                resume = min(originals.sourceEnd, read)
            } else {
                break
            }
        }
        return (upstream, resume)
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
    /// Nothing of the partition was mapped (no runs, no late beginning).
    func knowsNothing(_ partition: TopicPartition) -> Bool
}

extension OffsetMapRecorder.DurableView: ForwardOffsets {
    func run(_ partition: TopicPartition, holdingTarget position: Int64) -> OffsetRun? {
        map.run(partition, holdingTarget: position)
    }

    func knowsNothing(_ partition: TopicPartition) -> Bool {
        map.knowsNothing(partition)
    }
}

/// The map as read, for tools that look while the flow runs: everything in it may be used.
extension OffsetMap: ForwardOffsets {
    func covers(_ partition: TopicPartition, _ committed: Int64) -> Bool { true }

    func run(_ partition: TopicPartition, holdingTarget position: Int64) -> OffsetRun? {
        partitions[partition]?.run(holdingTarget: position)
    }

    func knowsNothing(_ partition: TopicPartition) -> Bool {
        (partitions[partition]?.runs.isEmpty ?? true) && mappedFrom[partition] == nil
    }
}
