import KafkaClient
@testable import Mirror
import NIOCore
import XCTest

final class PartitionOffsetMapTests: XCTestCase {
    private func run(_ source: Int64, _ target: Int64, _ span: Int64) -> OffsetRun {
        OffsetRun(sourceOffset: source, targetOffset: target, span: span)
    }

    /// The flow B->A of a pair of flows A->B and B->A.
    private func reverseFlow(identity: Bool = false) throws -> FlowSettings {
        let text = "clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\nB->A.enabled = true\n"
            + (identity ? "replication.policy.class = IdentityReplicationPolicy\n" : "")
        return try XCTUnwrap(try MirrorConfiguration(parsing: text).flows.first { $0.source == "B" })
    }

    func testGapsTranslateToTheNextCopiedRecord() {
        // Source 0-9 copied, 10 a commit marker, 11-14 copied, 15-19 compacted away, 20-21 copied.
        var map = PartitionOffsetMap()
        map.apply(run(0, 0, 5))
        map.apply(run(5, 5, 5))
        XCTAssertEqual(map.runs, [run(0, 0, 10)], "a run that carries on grows")
        map.apply(run(11, 10, 4))
        map.apply(run(20, 14, 2))
        XCTAssertEqual(map.runs.count, 3)
        XCTAssertEqual(map.translate(0), 0)
        XCTAssertEqual(map.translate(9), 9)
        XCTAssertEqual(map.translate(10), 10, "the marker: the next record's copy")
        XCTAssertEqual(map.translate(11), 10)
        XCTAssertEqual(map.translate(14), 13)
        XCTAssertEqual(map.translate(15), 14, "inside the compaction gap")
        XCTAssertEqual(map.translate(19), 14)
        XCTAssertEqual(map.translate(21), 15)
        XCTAssertEqual(map.translate(22), 16, "the end of what was copied")
        XCTAssertEqual(map.translate(500), 16, "never ahead of what was copied")
        XCTAssertEqual(PartitionOffsetMap().translate(3), nil)
    }

    func testTheLastCopyWins() {
        var map = PartitionOffsetMap()
        map.apply(run(0, 0, 30))
        // A crash: the restart resumes from the stored position 20 and copies 20-39 again at 30.
        map.apply(run(20, 30, 20))
        XCTAssertEqual(map.runs, [run(0, 0, 20), run(20, 30, 20)])
        XCTAssertEqual(map.translate(19), 19)
        XCTAssertEqual(map.translate(20), 30)
        XCTAssertEqual(map.translate(25), 35)
        XCTAssertEqual(map.translate(40), 50)
    }

    func testARestartThatHasNotCaughtUpKeepsTheOlderCopiesReachable() {
        // 0-39 copied at 0-39; the restart copied 20-24 again at 40-44 and the source was lost.
        let map = PartitionOffsetMap(runs: [run(0, 0, 40), run(20, 40, 5)])
        XCTAssertEqual(map.runs, [run(0, 0, 20), run(20, 40, 5), run(25, 25, 15)])
        XCTAssertEqual(map.translate(22), 25, "25-39 exist only as their first copies: they must still be read")
        XCTAssertEqual(map.translate(30), 30)
        XCTAssertEqual(map.translate(20), 25)
        XCTAssertEqual(map.translate(45), 45, "past every copy: where the next lands")
        XCTAssertEqual(map.reverseTranslate(41), 21, "read through the copy of 20 at 40")
        XCTAssertEqual(map.reverseTranslate(30), 20, "the earlier copies of 20-24 are not in the map: their last copies were not read")
        XCTAssertEqual(map.reverseTranslate(20), 20)
    }

    func testTheOrderRunsArriveInDoesNotMatter() {
        // Batches answered out of order, a growing run's records, and a restart's overlap.
        let runs = [run(0, 0, 10), run(10, 10, 10), run(20, 20, 10), run(0, 0, 20), run(15, 40, 10), run(30, 31, 3)]
        let expected = PartitionOffsetMap(runs: runs)
        XCTAssertEqual(expected.runs, [run(0, 0, 15), run(15, 40, 10), run(25, 25, 5), run(30, 31, 3)])
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            XCTAssertEqual(PartitionOffsetMap(runs: runs.shuffled(using: &generator)).runs, expected.runs)
        }
    }

    func testReverseTranslationForFailingBack() {
        // Source 0-9 -> 0-9; 10 a marker; 11-19 -> 10-18; then a crash: 15-19 again at 19-23.
        let map = PartitionOffsetMap(runs: [run(0, 0, 10), run(11, 10, 9), run(15, 19, 5)])
        XCTAssertEqual(map.reverseTranslate(0), 0)
        XCTAssertEqual(map.reverseTranslate(10), 11, "read through the copy of 9: resume after the marker")
        XCTAssertEqual(map.reverseTranslate(14), 15)
        XCTAssertEqual(map.reverseTranslate(16), 15, "inside the first copies of 15-18: back to the later copy's start")
        XCTAssertEqual(map.reverseTranslate(21), 17)
        XCTAssertEqual(map.reverseTranslate(24), 20, "everything read")
        XCTAssertEqual(map.reverseTranslate(99), 20)
    }

    func testFailbackTranslatesReplicasBackward() throws {
        let back = try reverseFlow()
        var opposite = OffsetMap()
        opposite.apply(.run(TopicPartition("orders", 0), run(0, 0, 100)))
        let translation = OffsetTranslation(flow: back, reverse: opposite)
        // Default policy: B's own `orders` copied to A's `B.orders` at the same offsets.
        var forward = OffsetMap()
        forward.apply(.run(TopicPartition("orders", 0), run(0, 0, 50)))
        XCTAssertEqual(translation.translate(TopicPartition("A.orders", 0), 40, forward: forward).map { "\($0.0) \($0.1)" }, "orders-0 40",
                       "the replica of A's topic goes back to the original")
        XCTAssertEqual(translation.translate(TopicPartition("orders", 0), 7, forward: forward).map { "\($0.0) \($0.1)" }, "B.orders-0 7",
                       "B's own topic goes forward")
        XCTAssertEqual(translation.translate(TopicPartition("A.orders", 0), 130, forward: forward).map { "\($0.0) \($0.1)" }, "orders-0 100",
                       "read past every copy: after the last original copied")

        // Identity: B's `orders` holds A's 100 originals (0-99), then B's own records from 100,
        // which the reverse flow copies to A's `orders` from 100 on.
        let identity = try reverseFlow(identity: true)
        let same = OffsetTranslation(flow: identity, reverse: opposite)
        var own = OffsetMap()
        own.apply(.run(TopicPartition("orders", 0), run(100, 100, 50)))
        XCTAssertEqual(same.translate(TopicPartition("orders", 0), 40, forward: own).map { "\($0.0) \($0.1)" }, "orders-0 40",
                       "within what came from A: back")
        XCTAssertEqual(same.translate(TopicPartition("orders", 0), 105, forward: own).map { "\($0.0) \($0.1)" }, "orders-0 105",
                       "past A's originals, over the copies of B's records already read")
    }

    func testNothingBelowWhereTheMapBeginsIsTranslated() throws {
        // Progress taken over from MirrorMaker 2 at 999: copies from 1000 on are mapped.
        let partition = TopicPartition("orders", 0)
        var map = OffsetMap()
        for record: OffsetMapRecord in [.run(partition, run(1000, 5, 10)), .mappedFrom(partition, offset: 1000, timestamp: 1), .mappedFrom(partition, offset: 400, timestamp: 2)] {
            map.apply(try OffsetMapRecord(key: record.key, value: record.value))
        }
        XCTAssertEqual(map.mappedFrom[partition], 1000, "the highest marker holds, in any order")
        XCTAssertNil(map.translate(partition, 900), "a lagging group below the map is not sent to its start")
        XCTAssertEqual(map.translate(partition, 1003), 8)
    }

    func testIdentityActiveActiveTakesTheLowerOfBothWays() throws {
        // B's `orders`: copies of A's a0 (B 0) and a1 (B 2) around B's own b0 (B 1). A's
        // `orders`: a0 (A 0), the copy of b0 (A 1), a1 (A 2). A group on B read a0 only.
        let back = try reverseFlow(identity: true)
        let orders = TopicPartition("orders", 0)
        var aToB = OffsetMap()
        aToB.apply(.run(orders, run(0, 0, 1)))
        aToB.apply(.run(orders, run(2, 2, 1)))
        var bToA = OffsetMap()
        bToA.apply(.run(orders, run(1, 1, 1)))
        let translation = OffsetTranslation(flow: back, reverse: aToB)
        XCTAssertEqual(translation.translate(orders, 1, forward: bToA).map { "\($0.0) \($0.1)" }, "orders-0 1",
                       "back alone would give 2 and skip the copy of b0")
        // A writes on: a2 (A 3) copied to B 3. A group on B that read everything lands on A's end,
        // not on the end of B's last copied record.
        aToB.apply(.run(orders, run(3, 3, 1)))
        let later = OffsetTranslation(flow: back, reverse: aToB)
        XCTAssertEqual(later.translate(orders, 4, forward: bToA).map { "\($0.0) \($0.1)" }, "orders-0 4")
        XCTAssertEqual(later.translate(orders, 2, forward: bToA).map { "\($0.0) \($0.1)" }, "orders-0 2", "read a0 and b0: a1 is next")
    }

    func testFailbackBelowALateBegunMapWaits() throws {
        // MM2 copied A's 0-999 to B's A.orders 0-999 without a map; Strait mapped from 1000 on.
        let back = try reverseFlow()
        let orders = TopicPartition("orders", 0)
        var aToB = OffsetMap()
        aToB.apply(.run(orders, run(1000, 1000, 50)))
        aToB.apply(.mappedFrom(orders, offset: 1000, timestamp: 0))
        let translation = OffsetTranslation(flow: back, reverse: aToB)
        XCTAssertNil(translation.translate(TopicPartition("A.orders", 0), 500, forward: OffsetMap()))
        XCTAssertEqual(translation.translate(TopicPartition("A.orders", 0), 1020, forward: OffsetMap()).map { "\($0.0) \($0.1)" }, "orders-0 1020")
    }

    func testRunsBelowTheLogStartArePruned() {
        var map = PartitionOffsetMap(runs: [run(0, 0, 10), run(11, 10, 5), run(20, 15, 5)])
        XCTAssertEqual(map.prune(below: 16), [run(0, 0, 10), run(11, 10, 5)])
        XCTAssertEqual(map.translate(16), 15, "the log start, inside the gap, still translates exactly")
        XCTAssertEqual(map.prune(below: 22), [], "a run the log start is inside stays")
        XCTAssertEqual(map.runs, [run(20, 15, 5)])
    }

    func testRecordsReplayInWriteOrder() throws {
        // A run written twice as it grew, then a restart's run: replaying the records (as read
        // from the compacted topic) gives the same map as the copier had.
        let partition = TopicPartition("orders", 2)
        let records: [OffsetMapRecord] = [.run(partition, run(0, 0, 10)), .run(partition, run(0, 0, 40)), .run(partition, run(35, 50, 5)),
                                          .sourceEnd(partition, logEnd: 41, timestamp: 1_700_000_000_000)]
        var map = OffsetMap()
        for record in records {
            map.apply(try OffsetMapRecord(key: record.key, value: record.value))
        }
        XCTAssertEqual(map.partitions[partition]?.runs, [run(0, 0, 35), run(35, 50, 5)])
        XCTAssertEqual(map.translate(partition, 40), 55)
        XCTAssertEqual(map.sourceEnds[partition], .init(logEnd: 41, timestamp: 1_700_000_000_000))
    }

    func testRecordLayout() throws {
        let record = OffsetMapRecord.run(TopicPartition("t", 1), run(7, 9, 3))
        XCTAssertEqual(Array(buffer: record.key), [0, 1, 0x74, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7])
        XCTAssertEqual(Array(buffer: record.value), [0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3])
        XCTAssertThrowsError(try OffsetMapRecord(key: record.key, value: ByteBuffer(bytes: [0, 1] + Array(repeating: 0, count: 16))), "unknown version")
        XCTAssertThrowsError(try OffsetMapRecord(key: record.key, value: ByteBuffer(bytes: [0, 0, 0])), "truncated")
    }
}
