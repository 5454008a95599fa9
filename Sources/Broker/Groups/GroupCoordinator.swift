import KafkaProtocol
import Logging
import NIOCore

/// The classic group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and the store of
/// committed offsets, for every group of this single-node site.
///
/// Rebalance: a join moves the group to PreparingRebalance and parks the member's JoinGroup;
/// the join phase completes when every known member has rejoined, or when the largest
/// rebalance timeout passes (members that did not rejoin are dropped), but not before
/// `group.initial.rebalance.delay.ms` for a group that was empty. The leader then receives the
/// members' subscriptions, assigns, and its SyncGroup releases everyone's assignment.
actor GroupCoordinator {
    struct Settings: Sendable {
        var minSessionTimeoutMs: Int32 = 6_000
        var maxSessionTimeoutMs: Int32 = 1_800_000
        var initialRebalanceDelayMs: Int64 = 3_000
        var offsetMetadataMaxBytes = 4096
        var offsetsRetentionMs: Int64 = 7 * 24 * 3_600_000
    }

    private var groups: [String: ConsumerGroup]
    /// Offsets committed inside open transactions (TxnOffsetCommit), by producer id and group;
    /// applied when the transaction commits, dropped when it aborts.
    private var pendingTransactionalOffsets: [Int64: [String: [TopicPartition: CommittedOffset]]] = [:]
    /// Set at broker shutdown: parked and new JoinGroup/SyncGroup requests get NOT_COORDINATOR.
    private var closing = false
    private let log: GroupMetadataLog
    private let settings: Settings
    private let logger: Logger

    init(log: GroupMetadataLog, settings: Settings, logger: Logger) throws(KafkaError) {
        self.log = log
        self.settings = settings
        self.logger = logger
        groups = try log.load(nowMs: WallClock.nowMs())
    }

    private func now() -> Int64 { WallClock.nowMs() }

    private func newMemberId(_ clientId: String) -> String {
        "\(clientId.isEmpty ? "member" : clientId)-\(KafkaUUID.random().description)"
    }

    private func persist(_ group: ConsumerGroup) {
        do {
            try log.writeGroup(group, nowMs: now())
        } catch {
            logger.error("cannot persist group", metadata: ["group": "\(group.groupId)", "error": "\(error)"])
        }
    }

    // MARK: JoinGroup

    func join(_ request: JoinGroupRequest, version: Int16, clientId: String, clientHost: String) async -> JoinGroupResponse {
        func failure(_ code: ErrorCode, memberId: String = request.memberId) -> JoinGroupResponse {
            JoinGroupResponse(errorCode: code.rawValue, generationId: -1, protocolName: version >= 7 ? nil : "", leader: "", memberId: memberId)
        }
        guard !request.groupId.isEmpty else { return failure(.invalidGroupId) }
        guard !closing else { return failure(.notCoordinator) }
        guard (settings.minSessionTimeoutMs...settings.maxSessionTimeoutMs).contains(request.sessionTimeoutMs) else {
            return failure(.invalidSessionTimeout)
        }
        var group = groups[request.groupId] ?? ConsumerGroup(groupId: request.groupId)
        guard group.state != .dead else { return failure(.coordinatorNotAvailable) }
        let protocols = request.protocols.map { (name: $0.name, metadata: $0.metadata) }
        guard group.supports(protocolType: request.protocolType, protocols: protocols.map(\.name)) else {
            return failure(.inconsistentGroupProtocol)
        }
        let rebalanceTimeout = version >= 1 && request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs
        var memberId = request.memberId

        if let instanceId = request.groupInstanceId {
            if let existing = group.staticMembers[instanceId] {
                if !memberId.isEmpty && memberId != existing { return failure(.fencedInstanceId) }
                if memberId.isEmpty, var member = group.members.removeValue(forKey: existing) {
                    // KIP-345: a restarted static member takes over its old identity.
                    memberId = newMemberId(clientId)
                    member.memberId = memberId
                    let unchanged = member.sameProtocols(as: protocols)
                    member.protocols = protocols
                    member.sessionTimeoutMs = request.sessionTimeoutMs
                    member.rebalanceTimeoutMs = rebalanceTimeout
                    member.lastHeartbeatMs = now()
                    if let waiter = member.joinWaiter {
                        member.joinWaiter = nil
                        waiter.resume(returning: failure(.fencedInstanceId, memberId: existing))
                    }
                    group.members[memberId] = member
                    group.staticMembers[instanceId] = memberId
                    if group.leaderId == existing { group.leaderId = memberId }
                    if group.state == .stable && unchanged {
                        // No rebalance: the current generation is answered again. A rejoining
                        // leader gets the members with skipAssignment (v9), and the SyncGroup it may
                        // still send in a stable group returns the assignment it already has.
                        groups[group.groupId] = group
                        persist(group)
                        var response = joinResponse(group, for: memberId)
                        response.skipAssignment = memberId == group.leaderId
                        return response
                    }
                    groups[group.groupId] = group
                    return await parkJoin(groupId: group.groupId, memberId: memberId, version: version)
                }
            } else if !memberId.isEmpty {
                return failure(.unknownMemberId)
            }
        }

        if memberId.isEmpty {
            memberId = newMemberId(clientId)
            if version >= 4 && request.groupInstanceId == nil {
                // KIP-394: hand out the id first; the member joins with it.
                group.pendingMembers[memberId] = now() + Int64(request.sessionTimeoutMs)
                groups[group.groupId] = group
                return failure(.memberIdRequired, memberId: memberId)
            }
        } else if group.members[memberId] == nil && group.pendingMembers[memberId] == nil {
            return failure(.unknownMemberId)
        }
        group.pendingMembers[memberId] = nil

        if var member = group.members[memberId] {
            let unchanged = member.sameProtocols(as: protocols)
            member.protocols = protocols
            member.sessionTimeoutMs = request.sessionTimeoutMs
            member.rebalanceTimeoutMs = rebalanceTimeout
            member.lastHeartbeatMs = now()
            group.members[memberId] = member
            if group.state == .completingRebalance && unchanged {
                // A duplicate join of the current generation: answer it again.
                groups[group.groupId] = group
                return joinResponse(group, for: memberId)
            }
            if group.state == .stable && unchanged && memberId != group.leaderId {
                groups[group.groupId] = group
                return joinResponse(group, for: memberId)
            }
        } else {
            group.members[memberId] = GroupMember(memberId: memberId, groupInstanceId: request.groupInstanceId, clientId: clientId,
                                                  clientHost: clientHost, sessionTimeoutMs: request.sessionTimeoutMs,
                                                  rebalanceTimeoutMs: rebalanceTimeout, protocols: protocols, lastHeartbeatMs: now())
            if let instanceId = request.groupInstanceId { group.staticMembers[instanceId] = memberId }
        }
        if group.protocolType == nil { group.protocolType = request.protocolType }
        groups[group.groupId] = group
        return await parkJoin(groupId: group.groupId, memberId: memberId, version: version)
    }

    private func parkJoin(groupId: String, memberId: String, version: Int16) async -> JoinGroupResponse {
        await withCheckedContinuation { continuation in
            guard var group = groups[groupId], group.members[memberId] != nil else {
                continuation.resume(returning: JoinGroupResponse(errorCode: ErrorCode.unknownMemberId.rawValue, generationId: -1, leader: "", memberId: memberId))
                return
            }
            if let previous = group.members[memberId]?.joinWaiter {
                previous.resume(returning: JoinGroupResponse(errorCode: ErrorCode.unknownMemberId.rawValue, generationId: -1, leader: "", memberId: memberId))
            }
            group.members[memberId]?.joinWaiter = continuation
            group.members[memberId]?.joinVersion = version
            groups[groupId] = group
            prepareRebalance(groupId)
            tryCompleteJoin(groupId)
        }
    }

    /// Moves the group to PreparingRebalance (if not already) and arms the rebalance timeout.
    private func prepareRebalance(_ groupId: String) {
        guard var group = groups[groupId], group.state != .preparingRebalance else { return }
        // Members parked in SyncGroup learn that the generation they synced for is over.
        for id in group.members.keys {
            if let waiter = group.members[id]?.syncWaiter {
                group.members[id]?.syncWaiter = nil
                waiter.resume(returning: SyncGroupResponse(errorCode: ErrorCode.rebalanceInProgress.rawValue, assignment: ByteBuffer()))
            }
        }
        let wasEmpty = group.state == .empty
        group.state = .preparingRebalance
        group.stateTimestampMs = now()
        group.rebalanceEpoch &+= 1
        group.joinNotBeforeMs = wasEmpty ? now() + settings.initialRebalanceDelayMs : 0
        let epoch = group.rebalanceEpoch
        let timeout = Int64(group.members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
        groups[groupId] = group
        if wasEmpty && settings.initialRebalanceDelayMs > 0 {
            schedule(after: settings.initialRebalanceDelayMs) { await $0.tryCompleteJoin(groupId) }
        }
        schedule(after: max(timeout, settings.initialRebalanceDelayMs)) { coordinator in
            await coordinator.rebalanceTimedOut(groupId, epoch: epoch)
        }
    }

    private nonisolated func schedule(after milliseconds: Int64, _ body: @escaping @Sendable (GroupCoordinator) async -> Void) {
        Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(max(0, milliseconds)) * 1_000_000)
            guard let self else { return }
            await body(self)
        }
    }

    private func rebalanceTimedOut(_ groupId: String, epoch: UInt64) {
        guard var group = groups[groupId], group.state == .preparingRebalance, group.rebalanceEpoch == epoch else { return }
        // Members that did not rejoin in time leave the group.
        for (id, member) in group.members where member.joinWaiter == nil {
            group.members[id] = nil
            if let instanceId = member.groupInstanceId, group.staticMembers[instanceId] == id { group.staticMembers[instanceId] = nil }
        }
        group.joinNotBeforeMs = 0
        groups[groupId] = group
        completeJoin(groupId)
    }

    private func tryCompleteJoin(_ groupId: String) {
        guard let group = groups[groupId], group.state == .preparingRebalance else { return }
        guard now() >= group.joinNotBeforeMs, group.members.values.allSatisfy({ $0.joinWaiter != nil }) else { return }
        completeJoin(groupId)
    }

    private func completeJoin(_ groupId: String) {
        guard var group = groups[groupId], group.state == .preparingRebalance else { return }
        group.generationId &+= 1
        group.stateTimestampMs = now()
        if group.members.isEmpty {
            group.state = .empty
            group.protocolName = nil
            group.leaderId = nil
            groups[groupId] = group
            persist(group)
            return
        }
        group.protocolName = group.selectProtocol()
        if group.leaderId == nil || group.members[group.leaderId!] == nil {
            group.leaderId = group.members.keys.sorted().first
        }
        group.state = .completingRebalance
        for id in group.members.keys { group.members[id]?.assignment = ByteBuffer() }
        var waiters: [(CheckedContinuation<JoinGroupResponse, Never>, JoinGroupResponse)] = []
        for id in group.members.keys {
            if let waiter = group.members[id]?.joinWaiter {
                waiters.append((waiter, joinResponse(group, for: id)))
                group.members[id]?.joinWaiter = nil
            }
        }
        groups[groupId] = group
        persist(group)
        for (waiter, response) in waiters { waiter.resume(returning: response) }
    }

    private func joinResponse(_ group: ConsumerGroup, for memberId: String) -> JoinGroupResponse {
        let isLeader = memberId == group.leaderId
        let members: [JoinGroupResponse.JoinGroupResponseMember] = isLeader
            ? group.members.values.sorted { $0.memberId < $1.memberId }.map {
                .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: group.protocolName ?? ""))
            }
            : []
        return JoinGroupResponse(generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName,
                                 leader: group.leaderId ?? "", memberId: memberId, members: members)
    }

    // MARK: SyncGroup

    func sync(_ request: SyncGroupRequest) async -> SyncGroupResponse {
        func failure(_ code: ErrorCode) -> SyncGroupResponse { SyncGroupResponse(errorCode: code.rawValue, assignment: ByteBuffer()) }
        guard !closing else { return failure(.notCoordinator) }
        guard var group = groups[request.groupId], let member = group.members[request.memberId] else { return failure(.unknownMemberId) }
        if let instanceId = request.groupInstanceId, group.staticMembers[instanceId] != request.memberId { return failure(.fencedInstanceId) }
        guard request.generationId == group.generationId else { return failure(.illegalGeneration) }
        if let type = request.protocolType, type != group.protocolType { return failure(.inconsistentGroupProtocol) }
        if let name = request.protocolName, name != group.protocolName { return failure(.inconsistentGroupProtocol) }
        switch group.state {
        case .preparingRebalance, .empty, .dead:
            return failure(.rebalanceInProgress)
        case .stable:
            return SyncGroupResponse(protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment)
        case .completingRebalance:
            return await withCheckedContinuation { continuation in
                group.members[request.memberId]?.syncWaiter = continuation
                group.members[request.memberId]?.lastHeartbeatMs = now()
                if request.memberId == group.leaderId {
                    for assignment in request.assignments where group.members[assignment.memberId] != nil {
                        group.members[assignment.memberId]?.assignment = assignment.assignment
                    }
                    group.state = .stable
                    group.stateTimestampMs = now()
                    var waiters: [(CheckedContinuation<SyncGroupResponse, Never>, SyncGroupResponse)] = []
                    for id in group.members.keys {
                        if let waiter = group.members[id]?.syncWaiter {
                            waiters.append((waiter, SyncGroupResponse(protocolType: group.protocolType, protocolName: group.protocolName,
                                                                      assignment: group.members[id]!.assignment)))
                            group.members[id]?.syncWaiter = nil
                        }
                    }
                    groups[group.groupId] = group
                    persist(group)
                    for (waiter, response) in waiters { waiter.resume(returning: response) }
                } else {
                    groups[group.groupId] = group
                }
            }
        }
    }

    /// Broker shutdown: releases every parked JoinGroup and SyncGroup with NOT_COORDINATOR, so
    /// the connections holding them can close now rather than when the rebalance would end.
    func shutdown() {
        closing = true
        for groupId in Array(groups.keys) {
            guard var group = groups[groupId] else { continue }
            for id in group.members.keys {
                if let waiter = group.members[id]?.joinWaiter {
                    group.members[id]?.joinWaiter = nil
                    waiter.resume(returning: JoinGroupResponse(errorCode: ErrorCode.notCoordinator.rawValue, generationId: -1, leader: "", memberId: id))
                }
                if let waiter = group.members[id]?.syncWaiter {
                    group.members[id]?.syncWaiter = nil
                    waiter.resume(returning: SyncGroupResponse(errorCode: ErrorCode.notCoordinator.rawValue, assignment: ByteBuffer()))
                }
            }
            groups[groupId] = group
        }
    }

    // MARK: Heartbeat and LeaveGroup

    func heartbeat(_ request: HeartbeatRequest) -> HeartbeatResponse {
        // KIP-345: an older incarnation of a static member is fenced, not merely unknown.
        if let instanceId = request.groupInstanceId, let current = groups[request.groupId]?.staticMembers[instanceId], current != request.memberId {
            return HeartbeatResponse(errorCode: ErrorCode.fencedInstanceId.rawValue)
        }
        guard var group = groups[request.groupId], group.members[request.memberId] != nil else {
            return HeartbeatResponse(errorCode: ErrorCode.unknownMemberId.rawValue)
        }
        group.members[request.memberId]?.lastHeartbeatMs = now()
        groups[request.groupId] = group
        guard request.generationId == group.generationId else { return HeartbeatResponse(errorCode: ErrorCode.illegalGeneration.rawValue) }
        if group.state == .preparingRebalance { return HeartbeatResponse(errorCode: ErrorCode.rebalanceInProgress.rawValue) }
        return HeartbeatResponse()
    }

    func leave(_ request: LeaveGroupRequest, version: Int16) -> LeaveGroupResponse {
        guard var group = groups[request.groupId] else {
            return LeaveGroupResponse(errorCode: ErrorCode.unknownMemberId.rawValue)
        }
        let leaving: [(memberId: String, instanceId: String?)] = version >= 3
            ? request.members.map { ($0.memberId, $0.groupInstanceId) }
            : [(request.memberId, nil)]
        var results: [LeaveGroupResponse.MemberResponse] = []
        var removed = false
        for (memberId, instanceId) in leaving {
            var target = memberId
            var code = ErrorCode.noError
            if let instanceId {
                if let current = group.staticMembers[instanceId], memberId.isEmpty || memberId == current {
                    target = current
                    group.staticMembers[instanceId] = nil
                } else {
                    code = group.staticMembers[instanceId] == nil ? .unknownMemberId : .fencedInstanceId
                }
            }
            if code == .noError, let member = group.members.removeValue(forKey: target) {
                member.joinWaiter?.resume(returning: JoinGroupResponse(errorCode: ErrorCode.unknownMemberId.rawValue, generationId: -1, leader: "", memberId: target))
                member.syncWaiter?.resume(returning: SyncGroupResponse(errorCode: ErrorCode.unknownMemberId.rawValue, assignment: ByteBuffer()))
                removed = true
            } else if code == .noError {
                code = group.pendingMembers.removeValue(forKey: target) != nil ? .noError : .unknownMemberId
            }
            results.append(.init(memberId: memberId, groupInstanceId: instanceId, errorCode: code.rawValue))
        }
        groups[request.groupId] = group
        if removed { membershipChanged(request.groupId) }
        if version < 3 { return LeaveGroupResponse(errorCode: results.first?.errorCode ?? 0) }
        return LeaveGroupResponse(members: results)
    }

    /// After members left or expired: rebalance the rest, or empty the group.
    private func membershipChanged(_ groupId: String) {
        guard var group = groups[groupId] else { return }
        if group.members.isEmpty && group.state != .preparingRebalance {
            group.state = .empty
            group.generationId &+= 1
            group.protocolName = nil
            group.leaderId = nil
            group.stateTimestampMs = now()
            groups[groupId] = group
            persist(group)
            return
        }
        switch group.state {
        case .stable, .completingRebalance:
            prepareRebalance(groupId)
        case .preparingRebalance:
            tryCompleteJoin(groupId)
        default:
            break
        }
    }

    /// Drops members whose session timed out and pending ids never used; run periodically.
    func expireSessions() {
        let time = now()
        for groupId in Array(groups.keys) {
            guard var group = groups[groupId] else { continue }
            group.pendingMembers = group.pendingMembers.filter { $0.value > time }
            var expired = false
            for (id, member) in group.members where member.joinWaiter == nil && time - member.lastHeartbeatMs > Int64(member.sessionTimeoutMs) {
                group.members[id] = nil
                if let instanceId = member.groupInstanceId, group.staticMembers[instanceId] == id { group.staticMembers[instanceId] = nil }
                member.syncWaiter?.resume(returning: SyncGroupResponse(errorCode: ErrorCode.unknownMemberId.rawValue, assignment: ByteBuffer()))
                expired = true
                logger.info("group member session expired", metadata: ["group": "\(groupId)", "member": "\(id)"])
            }
            groups[groupId] = group
            if expired { membershipChanged(groupId) }
            expireOffsets(groupId, now: time)
        }
    }

    /// `offsets.retention.minutes`: offsets of an empty group expire that long after it emptied.
    private func expireOffsets(_ groupId: String, now time: Int64) {
        guard var group = groups[groupId], group.state == .empty, !group.offsets.isEmpty else { return }
        let expired = group.offsets.filter { time - max($0.value.commitTimestampMs, group.stateTimestampMs) > settings.offsetsRetentionMs }
        guard !expired.isEmpty else { return }
        for key in expired.keys { group.offsets[key] = nil }
        groups[groupId] = group
        try? log.writeOffsets(group: groupId, expired.keys.map { ($0, nil) }, nowMs: time)
    }

    // MARK: offsets

    func commit(_ request: OffsetCommitRequest, version: Int16) -> OffsetCommitResponse {
        func answer(_ code: ErrorCode) -> OffsetCommitResponse {
            OffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code.rawValue) })
            })
        }
        guard !request.groupId.isEmpty else { return answer(.invalidGroupId) }
        var group = groups[request.groupId] ?? ConsumerGroup(groupId: request.groupId)
        if request.generationIdOrMemberEpoch >= 0 || !request.memberId.isEmpty {
            guard let member = group.members[request.memberId] else { return answer(.unknownMemberId) }
            if let instanceId = request.groupInstanceId, group.staticMembers[instanceId] != member.memberId { return answer(.fencedInstanceId) }
            guard request.generationIdOrMemberEpoch == group.generationId else { return answer(.illegalGeneration) }
            // Members may still commit for the generation that is ending (PreparingRebalance);
            // between the join and the assignment (CompletingRebalance) there is nothing to commit.
            if group.state == .completingRebalance { return answer(.rebalanceInProgress) }
            group.members[request.memberId]?.lastHeartbeatMs = now()
        } else if !group.members.isEmpty {
            // A simple (memberless) commit into a group that has members.
            return answer(.unknownMemberId)
        }
        let time = now()
        var written: [(TopicPartition, CommittedOffset?)] = []
        let response = OffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                if (partition.committedMetadata?.utf8.count ?? 0) > settings.offsetMetadataMaxBytes {
                    return .init(partitionIndex: partition.partitionIndex, errorCode: ErrorCode.offsetMetadataTooLarge.rawValue)
                }
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                let value = CommittedOffset(offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                                            metadata: partition.committedMetadata, commitTimestampMs: time)
                group.offsets[key] = value
                written.append((key, value))
                return .init(partitionIndex: partition.partitionIndex, errorCode: 0)
            })
        })
        do {
            try log.writeOffsets(group: request.groupId, written, nowMs: time)
        } catch {
            return answer(error.code)
        }
        groups[request.groupId] = group
        return response
    }

    /// Committed offsets of one group: the given partitions, or all when `topics` is nil.
    func fetchOffsets(groupId: String, topics: [(name: String, partitions: [Int32])]?) -> [(topic: String, partitions: [(Int32, CommittedOffset?)])] {
        let offsets = groups[groupId]?.offsets ?? [:]
        if let topics {
            return topics.map { topic in
                (topic.name, topic.partitions.map { ($0, offsets[TopicPartition(topic: topic.name, partition: $0)]) })
            }
        }
        let byTopic = Dictionary(grouping: offsets.keys.sorted(), by: \.topic)
        return byTopic.keys.sorted().map { topic in (topic, byTopic[topic]!.map { ($0.partition, offsets[$0]) }) }
    }

    // MARK: transactional offsets

    nonisolated func offsetsPartition(for groupId: String) -> Int32 {
        log.partition(for: groupId)
    }

    /// TxnOffsetCommit: held until the transaction ends. A generation, when given (v3+), must
    /// match, so a zombie member cannot commit into a group that moved on (KIP-447).
    func commitTransactional(_ request: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
        var error = ErrorCode.noError
        if let group = groups[request.groupId], request.generationId >= 0 || !request.memberId.isEmpty {
            if group.members[request.memberId] == nil {
                error = .unknownMemberId
            } else if request.generationId != group.generationId {
                error = .illegalGeneration
            }
        }
        let time = now()
        if error == .noError {
            for topic in request.topics {
                for partition in topic.partitions {
                    pendingTransactionalOffsets[request.producerId, default: [:]][request.groupId, default: [:]][TopicPartition(topic: topic.name, partition: partition.partitionIndex)] =
                        CommittedOffset(offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                                        metadata: partition.committedMetadata, commitTimestampMs: time)
                }
            }
        }
        return TxnOffsetCommitResponse(topics: request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: error.rawValue) })
        })
    }

    func completeTransaction(producerId: Int64, commit: Bool) {
        guard let pending = pendingTransactionalOffsets.removeValue(forKey: producerId), commit else { return }
        for (groupId, offsets) in pending {
            var group = groups[groupId] ?? ConsumerGroup(groupId: groupId)
            for (key, value) in offsets { group.offsets[key] = value }
            groups[groupId] = group
            do {
                try log.writeOffsets(group: groupId, offsets.map { ($0.key, $0.value) }, nowMs: now())
            } catch {
                logger.error("cannot persist transactional offsets", metadata: ["group": "\(groupId)", "error": "\(error)"])
            }
        }
    }

    // MARK: administration

    /// ListGroups, optionally filtered by state name (v4, case-insensitive as in Kafka).
    /// Groups that exist (any state but dead).
    var groupCount: Int { groups.values.filter { $0.state != .dead }.count }

    func listGroups(states: [String]) -> [(groupId: String, protocolType: String, state: String)] {
        let wanted = Set(states.map { $0.lowercased() })
        return groups.values.filter { $0.state != .dead && (wanted.isEmpty || wanted.contains($0.state.rawValue.lowercased())) }
            .sorted { $0.groupId < $1.groupId }
            .map { ($0.groupId, $0.protocolType ?? "", $0.state.rawValue) }
    }

    func describe(_ groupId: String) -> ConsumerGroup? {
        groups[groupId]
    }

    func delete(_ groupId: String) -> ErrorCode {
        guard let group = groups[groupId], group.state != .dead else { return .groupIdNotFound }
        guard group.members.isEmpty else { return .nonEmptyGroup }
        do {
            try log.writeOffsets(group: groupId, group.offsets.keys.map { ($0, nil) }, nowMs: now())
            try log.writeGroup(group, deleted: true, nowMs: now())
        } catch {
            return error.code
        }
        groups[groupId] = nil
        return .noError
    }

    /// OffsetDelete: removes committed offsets of topics the group does not subscribe to.
    func deleteOffsets(_ groupId: String, topics: [(String, [Int32])]) -> (ErrorCode, [(String, [(Int32, ErrorCode)])]) {
        guard var group = groups[groupId] else { return (.groupIdNotFound, []) }
        var removed: [(TopicPartition, CommittedOffset?)] = []
        let results = topics.map { topic, partitions -> (String, [(Int32, ErrorCode)]) in
            let subscribed = group.isSubscribed(to: topic)
            return (topic, partitions.map { partition in
                if subscribed { return (partition, .groupSubscribedToTopic) }
                let key = TopicPartition(topic: topic, partition: partition)
                if group.offsets.removeValue(forKey: key) != nil { removed.append((key, nil)) }
                return (partition, .noError)
            })
        }
        try? log.writeOffsets(group: groupId, removed, nowMs: now())
        groups[groupId] = group
        return (.noError, results)
    }
}
