import Foundation
import KafkaProtocol
import LogStore
import Logging
import NIOCore
import XCTest

@testable import Broker

final class GroupCoordinatorTests: XCTestCase {
    private var directory = ""
    private var registry: TopicRegistry!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-groups-\(UUID().uuidString)").path
        registry = try TopicRegistry(config: BrokerConfig(dataDirectory: directory, properties: ["offsets.topic.num.partitions": "3"]), cleanShutdown: true, nowMs: 0)
    }

    override func tearDown() {
        registry.closeAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func coordinator() throws -> GroupCoordinator {
        var settings = GroupCoordinator.Settings()
        settings.minSessionTimeoutMs = 50
        settings.initialRebalanceDelayMs = 0
        return try GroupCoordinator(log: GroupMetadataLog(registry: registry, nowMs: 0), settings: settings, logger: Logger(label: "test"))
    }

    private static func joinRequest(_ memberId: String = "", instance: String? = nil, session: Int32 = 10_000, topics: [String] = ["t"]) throws -> JoinGroupRequest {
        let metadata = try ConsumerProtocolSubscription(topics: topics).encodedWithVersionPrefix(version: 1)
        return JoinGroupRequest(groupId: "g", sessionTimeoutMs: session, rebalanceTimeoutMs: 2_000, memberId: memberId, groupInstanceId: instance,
                                protocolType: "consumer", protocols: [.init(name: "range", metadata: metadata)])
    }

    /// KIP-394: the first join returns an id, the second joins with it.
    private static func join(_ groups: GroupCoordinator, instance: String? = nil, session: Int32 = 10_000) async throws -> JoinGroupResponse {
        let first = await groups.join(try Self.joinRequest(instance: instance, session: session), version: 9, clientId: "c", clientHost: "/127.0.0.1")
        if instance != nil { return first }
        XCTAssertEqual(first.errorCode, ErrorCode.memberIdRequired.rawValue)
        return await groups.join(try Self.joinRequest(first.memberId, session: session), version: 9, clientId: "c", clientHost: "/127.0.0.1")
    }

    func testTwoMembersRebalanceAndReceiveTheLeadersAssignment() async throws {
        let groups = try coordinator()
        let a = try await Self.join(groups)
        XCTAssertEqual(a.errorCode, 0)
        XCTAssertEqual(a.generationId, 1)
        XCTAssertEqual(a.leader, a.memberId)
        XCTAssertEqual(a.members.count, 1)
        let syncA = await groups.sync(SyncGroupRequest(groupId: "g", generationId: 1, memberId: a.memberId, assignments: [.init(memberId: a.memberId, assignment: ByteBuffer(string: "all"))]))
        XCTAssertEqual(String(buffer: syncA.assignment), "all")

        // B joins: the group rebalances; A learns it from its heartbeat and rejoins.
        async let bJoin = Self.join(groups)
        try await Task.sleep(nanoseconds: 100_000_000)
        let beat = await groups.heartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: a.memberId))
        XCTAssertEqual(beat.errorCode, ErrorCode.rebalanceInProgress.rawValue)
        let aAgain = await groups.join(try Self.joinRequest(a.memberId), version: 9, clientId: "c", clientHost: "")
        let b = try await bJoin
        XCTAssertEqual(aAgain.generationId, 2)
        XCTAssertEqual(b.generationId, 2)
        XCTAssertEqual(aAgain.leader, a.memberId, "the leader keeps its role")
        XCTAssertEqual(aAgain.members.count, 2)
        XCTAssertTrue(b.members.isEmpty)

        async let bSync = groups.sync(SyncGroupRequest(groupId: "g", generationId: 2, memberId: b.memberId))
        try await Task.sleep(nanoseconds: 50_000_000)
        let leaderSync = await groups.sync(SyncGroupRequest(groupId: "g", generationId: 2, memberId: a.memberId, assignments: [
            .init(memberId: a.memberId, assignment: ByteBuffer(string: "p0")), .init(memberId: b.memberId, assignment: ByteBuffer(string: "p1")),
        ]))
        XCTAssertEqual(String(buffer: leaderSync.assignment), "p0")
        let followerSync = await bSync
        XCTAssertEqual(String(buffer: followerSync.assignment), "p1")

        // Stale generation and unknown members get Kafka's errors.
        let stale = await groups.heartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: a.memberId))
        XCTAssertEqual(stale.errorCode, ErrorCode.illegalGeneration.rawValue)
        let unknown = await groups.heartbeat(HeartbeatRequest(groupId: "g", generationId: 2, memberId: "nobody"))
        XCTAssertEqual(unknown.errorCode, ErrorCode.unknownMemberId.rawValue)
        let current = await groups.heartbeat(HeartbeatRequest(groupId: "g", generationId: 2, memberId: b.memberId))
        XCTAssertEqual(current.errorCode, 0)
        let staleCommit = await groups.commit(OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: 1, memberId: a.memberId,
                                                                  topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 5)])]), version: 8)
        XCTAssertEqual(staleCommit.topics[0].partitions[0].errorCode, ErrorCode.illegalGeneration.rawValue)
    }

    func testExpiredSessionsRebalanceTheRest() async throws {
        let groups = try coordinator()
        let a = try await Self.join(groups, session: 200)
        _ = await groups.sync(SyncGroupRequest(groupId: "g", generationId: a.generationId, memberId: a.memberId, assignments: []))
        try await Task.sleep(nanoseconds: 400_000_000)
        await groups.expireSessions()
        let described = await groups.describe("g")
        XCTAssertEqual(described?.state, .empty)
        XCTAssertEqual(described?.members.count, 0)
    }

    func testCommittedOffsetsSurviveACoordinatorRestart() async throws {
        let groups = try coordinator()
        let a = try await Self.join(groups)
        _ = await groups.sync(SyncGroupRequest(groupId: "g", generationId: a.generationId, memberId: a.memberId, assignments: []))
        let commit = await groups.commit(OffsetCommitRequest(groupId: "g", generationIdOrMemberEpoch: a.generationId, memberId: a.memberId, topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 3, committedMetadata: "m"),
                                          .init(partitionIndex: 1, committedOffset: 7)]),
        ]), version: 8)
        XCTAssertEqual(commit.topics[0].partitions.map(\.errorCode), [0, 0])
        let simple = await groups.commit(OffsetCommitRequest(groupId: "solo", topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 9)])]), version: 8)
        XCTAssertEqual(simple.topics[0].partitions[0].errorCode, 0)

        let restarted = try coordinator()
        let fetched = await restarted.fetchOffsets(groupId: "g", topics: [("t", [0, 1, 2])])
        XCTAssertEqual(fetched[0].partitions.map { $0.1?.offset ?? -1 }, [42, 7, -1])
        XCTAssertEqual(fetched[0].partitions[0].1?.metadata, "m")
        XCTAssertEqual(fetched[0].partitions[0].1?.leaderEpoch, 3)
        let solo = await restarted.fetchOffsets(groupId: "solo", topics: nil)
        XCTAssertEqual(solo.first?.partitions.first?.1?.offset, 9)
        let describedAfterRestart = await restarted.describe("g")
        XCTAssertEqual(describedAfterRestart?.state, .stable, "members are restored and keep heartbeating")
        let beat = await restarted.heartbeat(HeartbeatRequest(groupId: "g", generationId: a.generationId, memberId: a.memberId))
        XCTAssertEqual(beat.errorCode, 0)
        let deleteActive = await restarted.delete("g")
        XCTAssertEqual(deleteActive, .nonEmptyGroup)
        let deleteSolo = await restarted.delete("solo")
        XCTAssertEqual(deleteSolo, .noError)
        let afterDelete = await restarted.fetchOffsets(groupId: "solo", topics: nil)
        XCTAssertTrue(afterDelete.isEmpty)
    }

    func testStaticMemberRejoinsWithoutARebalance() async throws {
        let groups = try coordinator()
        let first = try await Self.join(groups, instance: "consumer-1")
        XCTAssertEqual(first.errorCode, 0)
        _ = await groups.sync(SyncGroupRequest(groupId: "g", generationId: first.generationId, memberId: first.memberId, groupInstanceId: "consumer-1",
                                               assignments: [.init(memberId: first.memberId, assignment: ByteBuffer(string: "mine"))]))
        // The process restarts and joins again with the same instance id and no member id.
        let again = try await Self.join(groups, instance: "consumer-1")
        XCTAssertEqual(again.errorCode, 0)
        XCTAssertEqual(again.generationId, first.generationId, "no new generation")
        XCTAssertNotEqual(again.memberId, first.memberId)
        let sync = await groups.sync(SyncGroupRequest(groupId: "g", generationId: again.generationId, memberId: again.memberId, groupInstanceId: "consumer-1"))
        XCTAssertEqual(String(buffer: sync.assignment), "mine")
        // The old incarnation is fenced.
        let fenced = await groups.heartbeat(HeartbeatRequest(groupId: "g", generationId: first.generationId, memberId: first.memberId, groupInstanceId: "consumer-1"))
        XCTAssertEqual(fenced.errorCode, ErrorCode.fencedInstanceId.rawValue)
    }

    func testIncompatibleProtocolsAndBadSessionTimeoutsAreRefused() async throws {
        let groups = try coordinator()
        _ = try await Self.join(groups)
        var other = try Self.joinRequest()
        other.protocols = [.init(name: "roundrobin", metadata: ByteBuffer())]
        let inconsistent = await groups.join(other, version: 9, clientId: "c", clientHost: "")
        XCTAssertEqual(inconsistent.errorCode, ErrorCode.inconsistentGroupProtocol.rawValue)
        let tooShort = await groups.join(try Self.joinRequest(session: 1), version: 9, clientId: "c", clientHost: "")
        XCTAssertEqual(tooShort.errorCode, ErrorCode.invalidSessionTimeout.rawValue)
    }

    func testShutdownReleasesParkedJoins() async throws {
        let groups = try coordinator()
        let first = try await Self.join(groups)
        _ = await groups.sync(SyncGroupRequest(groupId: "g", generationId: first.generationId, memberId: first.memberId, assignments: []))
        // A second member's join waits for the first to rejoin, which it never does.
        let started = Date()
        async let parked = Self.join(groups)
        try await Task.sleep(nanoseconds: 100_000_000)
        await groups.shutdown()
        let answer = try await parked
        XCTAssertEqual(answer.errorCode, ErrorCode.notCoordinator.rawValue)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "released at shutdown, not at the rebalance timeout")
    }
}

final class TransactionCoordinatorTests: XCTestCase {
    func testDescribeAndListFollowTheTransaction() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-txc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = BrokerConfig(dataDirectory: directory, properties: ["offsets.topic.num.partitions": "2", "transaction.state.log.num.partitions": "2"])
        let registry = try TopicRegistry(config: config, cleanShutdown: true, nowMs: 0)
        defer { registry.closeAll() }
        _ = try registry.create(name: "t", partitions: 2, configs: [:], validateOnly: false, nowMs: 0)
        let context = BrokerContext(config: config, clusterId: "c", registry: registry)
        let groups = try GroupCoordinator(log: GroupMetadataLog(registry: registry, nowMs: 0), settings: .init(), logger: Logger(label: "test"))
        func coordinator() throws -> TransactionCoordinator {
            try TransactionCoordinator(broker: context, groups: groups, producerIds: ProducerIdAllocator(dataDirectory: directory),
                                       log: TransactionLog(registry: registry, nowMs: 0), logger: Logger(label: "test"))
        }
        let transactions = try coordinator()
        let (error, producerId, epoch) = await transactions.initProducerId(transactionalId: "app", timeoutMs: 60_000, producerId: -1, producerEpoch: -1)
        XCTAssertEqual(error, .noError)
        let added = await transactions.addPartitions(transactionalId: "app", producerId: producerId, epoch: epoch,
                                                     partitions: [TopicPartition(topic: "t", partition: 1)])
        XCTAssertEqual(Array(added.values), [.noError])
        let ongoing = await transactions.describe("app")
        XCTAssertEqual(ongoing?.state, .ongoing)
        XCTAssertEqual(ongoing?.partitions, [TopicPartition(topic: "t", partition: 1)])
        let listedOngoing = await transactions.list(states: ["Ongoing"], producerIds: [])
        XCTAssertEqual(listedOngoing.map(\.transactionalId), ["app"])
        // The state survives a coordinator restart.
        let restarted = try coordinator()
        let reloaded = await restarted.describe("app")
        XCTAssertEqual(reloaded?.state, .ongoing)
        XCTAssertEqual(reloaded?.producerEpoch, epoch)
        let ended = await restarted.endTransaction(transactionalId: "app", producerId: producerId, epoch: epoch, commit: true)
        XCTAssertEqual(ended, .noError)
        let committed = await restarted.describe("app")
        XCTAssertEqual(committed?.state, .completeCommit)
        XCTAssertEqual(registry.partition("t", 1)?.logEndOffset, 1, "a commit marker was written")
        let stale = await restarted.endTransaction(transactionalId: "app", producerId: producerId, epoch: epoch - 1, commit: true)
        XCTAssertEqual(stale, .producerFenced)
        let listedOngoingAfter = await restarted.list(states: ["Ongoing"], producerIds: [])
        XCTAssertTrue(listedOngoingAfter.isEmpty)
    }
}
