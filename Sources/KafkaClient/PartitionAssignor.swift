/// A client-side assignor of the classic consumer protocol: the group leader runs it over every
/// member's subscription and sends the result to the coordinator in SyncGroup. The broker only
/// carries the bytes, so members of other clients using the same protocol name interoperate.
protocol PartitionAssignor: Sendable {
    var name: PartitionAssignorName { get }
    /// Whether members keep partitions across a rebalance (KIP-429) instead of revoking all first.
    var isCooperative: Bool { get }
    func assign(_ members: [GroupSubscription], partitionCounts: [String: Int]) -> [String: [TopicPartition]]
}

/// One member's subscription as the leader sees it in the JoinGroup answer.
struct GroupSubscription: Sendable {
    var memberId: String
    var groupInstanceId: String?
    var topics: [String]
    var ownedPartitions: [TopicPartition]
    var generationId: Int32
}

/// Java's RangeAssignor: for each topic, members subscribed to it (sorted by member id; static
/// members by instance id, so restarts do not reshuffle) get consecutive ranges, the first
/// `partitions % members` one partition more.
struct RangeAssignor: PartitionAssignor {
    var name: PartitionAssignorName { .range }
    var isCooperative: Bool { false }

    func assign(_ members: [GroupSubscription], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        var result = Dictionary(members.map { ($0.memberId, [TopicPartition]()) }, uniquingKeysWith: { first, _ in first })
        let topics = Set(members.flatMap(\.topics)).sorted()
        for topic in topics {
            guard let count = partitionCounts[topic], count > 0 else { continue }
            let subscribers = members.filter { $0.topics.contains(topic) }.sorted { ($0.groupInstanceId ?? $0.memberId) < ($1.groupInstanceId ?? $1.memberId) }
            let per = count / subscribers.count
            let extra = count % subscribers.count
            var next = 0
            for (index, member) in subscribers.enumerated() {
                let size = per + (index < extra ? 1 : 0)
                for partition in next..<(next + size) { result[member.memberId, default: []].append(TopicPartition(topic, Int32(partition))) }
                next += size
            }
        }
        return result
    }
}

/// The cooperative-sticky assignor (KIP-429): a balanced assignment that keeps each member's
/// current partitions where it can, and withholds a partition that changes owner until its
/// previous owner has revoked it (the next rebalance hands it over). Balance means every
/// member's count differs by at most one among members subscribed to the same topics.
struct CooperativeStickyAssignor: PartitionAssignor {
    var name: PartitionAssignorName { .cooperativeSticky }
    var isCooperative: Bool { true }

    func assign(_ members: [GroupSubscription], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        let ordered = members.sorted { $0.memberId < $1.memberId }
        var all: [TopicPartition] = []
        for topic in Set(members.flatMap(\.topics)).sorted() {
            for partition in 0..<(partitionCounts[topic] ?? 0) { all.append(TopicPartition(topic, Int32(partition))) }
        }
        // Current owners: a partition claimed twice (a member that missed a rebalance) goes to
        // the claim from the newer generation.
        var owner: [TopicPartition: (member: String, generation: Int32)] = [:]
        // Every claim, also of topics the claimant no longer subscribes to: such a partition is
        // still being worked on until its claimant revokes it, so nobody else may get it yet.
        var claims: [TopicPartition: (member: String, generation: Int32)] = [:]
        for member in ordered {
            for owned in member.ownedPartitions {
                if let existing = claims[owned], existing.generation >= member.generationId { continue }
                claims[owned] = (member.memberId, member.generationId)
            }
            for owned in member.ownedPartitions where member.topics.contains(owned.topic) && Int(owned.partition) < (partitionCounts[owned.topic] ?? 0) {
                if let existing = owner[owned], existing.generation >= member.generationId { continue }
                owner[owned] = (member.memberId, member.generationId)
            }
        }
        var assignment = Dictionary(ordered.map { ($0.memberId, [TopicPartition]()) }, uniquingKeysWith: { first, _ in first })
        for (partition, claim) in owner { assignment[claim.member]!.append(partition) }
        let subscriptions = Dictionary(ordered.map { ($0.memberId, Set($0.topics)) }, uniquingKeysWith: { first, _ in first })
        // Members above their fair share give up their highest partitions.
        let quota = all.isEmpty ? 0 : (all.count + ordered.count - 1) / ordered.count
        let floorQuota = all.count / max(ordered.count, 1)
        var extraSlots = all.count - floorQuota * ordered.count
        for member in ordered {
            var owned = assignment[member.memberId]!.sorted()
            let allowed = owned.count > floorQuota && extraSlots > 0 ? quota : floorQuota
            if owned.count > floorQuota && extraSlots > 0 { extraSlots -= 1 }
            while owned.count > allowed { owned.removeLast() }
            assignment[member.memberId] = owned
        }
        // Unowned partitions go to the eligible member with the fewest.
        let taken = Set(assignment.values.flatMap { $0 })
        for partition in all where !taken.contains(partition) {
            let candidates = ordered.filter { subscriptions[$0.memberId]!.contains(partition.topic) }
            guard let chosen = candidates.min(by: { (assignment[$0.memberId]!.count, $0.memberId) < (assignment[$1.memberId]!.count, $1.memberId) }) else { continue }
            assignment[chosen.memberId]!.append(partition)
        }
        // A partition whose owner changes is withheld this round: its owner revokes it first.
        for member in ordered {
            assignment[member.memberId] = assignment[member.memberId]!.filter { partition in
                guard let current = owner[partition] ?? claims[partition] else { return true }
                return current.member == member.memberId
            }.sorted()
        }
        return assignment
    }
}
