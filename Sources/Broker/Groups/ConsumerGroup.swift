import KafkaProtocol
import NIOCore

/// The state of one classic group: membership, generation, chosen protocol, committed offsets.
/// Mutated only inside `GroupCoordinator`.
struct ConsumerGroup {
    let groupId: String
    var state: GroupState = .empty
    var generationId: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leaderId: String?
    var members: [String: GroupMember] = [:]
    /// KIP-394: member ids handed out with MEMBER_ID_REQUIRED, not yet joined (id → expiry).
    var pendingMembers: [String: Int64] = [:]
    /// KIP-345: group.instance.id → current member id.
    var staticMembers: [String: String] = [:]
    var offsets: [TopicPartition: CommittedOffset] = [:]
    /// Bumped at every rebalance start so stale timers can tell they are stale.
    var rebalanceEpoch: UInt64 = 0
    /// When the current join phase may complete at the earliest (group.initial.rebalance.delay.ms).
    var joinNotBeforeMs: Int64 = 0
    var stateTimestampMs: Int64 = 0

    init(groupId: String) {
        self.groupId = groupId
    }

    var isEmpty: Bool { members.isEmpty }

    /// The protocol every member supports that most members prefer (Kafka's vote).
    func selectProtocol() -> String? {
        guard let first = members.values.first else { return nil }
        let candidates = first.protocols.map(\.name).filter { name in
            members.values.allSatisfy { member in member.protocols.contains { $0.name == name } }
        }
        guard !candidates.isEmpty else { return nil }
        var votes: [String: Int] = [:]
        for member in members.values {
            if let choice = member.protocols.first(where: { candidates.contains($0.name) })?.name {
                votes[choice, default: 0] += 1
            }
        }
        return candidates.max { (votes[$0] ?? 0) < (votes[$1] ?? 0) }
    }

    /// Whether a joining member's protocols leave at least one protocol common to the group.
    func supports(protocolType: String, protocols: [String]) -> Bool {
        if members.isEmpty { return !protocols.isEmpty }
        guard self.protocolType == protocolType else { return false }
        return protocols.contains { name in members.values.allSatisfy { member in member.protocols.contains { $0.name == name } } }
    }

    /// The group subscribes to `topic` if a member's consumer-protocol subscription names it.
    func isSubscribed(to topic: String) -> Bool {
        guard protocolType == "consumer", let protocolName else { return false }
        return members.values.contains { member in
            guard let (_, subscription) = try? ConsumerProtocolSubscription.decodeWithVersionPrefix(from: member.metadata(for: protocolName)) else { return false }
            return subscription.topics.contains(topic)
        }
    }
}
