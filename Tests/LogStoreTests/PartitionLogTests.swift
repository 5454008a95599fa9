import Foundation
import KafkaProtocol
import LogStore
import NIOCore
import XCTest

final class PartitionLogTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-log-\(UUID().uuidString)").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func batch(_ values: [String], timestamp: Int64 = 1_700_000_000_000, codec: CompressionCodec = .none) throws -> ByteBuffer {
        let records = values.enumerated().map { index, value in
            Record(timestampDelta: Int64(index), offsetDelta: Int32(index), key: ByteBuffer(string: "k\(index)"), value: ByteBuffer(string: value))
        }
        return try RecordBatch(attributes: RecordBatchAttributes(compression: codec), baseTimestamp: timestamp, records: records).encoded()
    }

    private func open(_ config: LogConfig = LogConfig(), clean: Bool = true) throws -> PartitionLog {
        try PartitionLog(directory: directory, topic: "t", partition: 0, config: config, cleanShutdown: clean, nowMs: 1_700_000_000_000)
    }

    private func values(_ log: PartitionLog, from offset: Int64 = 0) throws -> [String] {
        var out: [String] = []
        var next = offset
        while next < log.logEndOffset {
            guard let bytes = try log.read(from: next, maxBytes: 1 << 20).records, bytes.readableBytes > 0 else { break }
            for view in try RecordSet(bytes).batches {
                let decoded = try RecordBatch(view: view)
                for record in decoded.records where decoded.offset(of: record) >= next {
                    out.append(String(buffer: record.value!))
                }
                next = view.lastOffset + 1
            }
        }
        return out
    }

    func testAppendAssignsOffsetsAndPatchesEpochWithoutTouchingRecords() throws {
        let log = try open()
        let first = try log.append(try batch(["a", "b", "c"]), nowMs: 1)
        let second = try log.append(try batch(["d"]), nowMs: 1)
        XCTAssertEqual(first.baseOffset, 0)
        XCTAssertEqual(second.baseOffset, 3)
        XCTAssertEqual(log.logEndOffset, 4)
        let bytes = try XCTUnwrap(log.read(from: 3, maxBytes: 1000).records)
        let view = try XCTUnwrap(RecordSet(bytes).batches.first)
        XCTAssertEqual(view.baseOffset, 3)
        XCTAssertEqual(view.partitionLeaderEpoch, log.leaderEpoch)
        XCTAssertNoThrow(try view.validate())
        XCTAssertEqual(try values(log), ["a", "b", "c", "d"])
    }

    func testRejectsWhatKafkaRejects() throws {
        var config = LogConfig()
        config.maxMessageBytes = 200
        let log = try open(config)
        let large = try batch([String(repeating: "x", count: 500)])
        XCTAssertThrowsError(try log.append(large, nowMs: 1)) {
            XCTAssertEqual($0 as? LogStoreError, .messageTooLarge(size: large.readableBytes, limit: 200))
        }
        var corrupt = try batch(["a"])
        corrupt.setInteger(UInt8(0x55), at: corrupt.writerIndex - 1)
        XCTAssertThrowsError(try log.append(corrupt, nowMs: 1)) {
            guard case .corruptBatch = $0 as? LogStoreError else { return XCTFail("\($0)") }
        }
        let control = try RecordBatch(attributes: RecordBatchAttributes(isTransactional: true, isControl: true), baseTimestamp: 1,
                                      producerId: 1, producerEpoch: 0, records: [ControlRecord(type: .commit, coordinatorEpoch: 0).record()]).encoded()
        XCTAssertThrowsError(try log.append(control, nowMs: 1)) {
            guard case .invalidRecord = $0 as? LogStoreError else { return XCTFail("\($0)") }
        }
        let gap = try RecordBatch(lastOffsetDelta: 5, baseTimestamp: 1, records: [Record(offsetDelta: 0, value: ByteBuffer(string: "x"))]).encoded()
        XCTAssertThrowsError(try log.append(gap, nowMs: 1))
        XCTAssertEqual(log.logEndOffset, 0, "nothing of a rejected request is appended")
    }

    func testSegmentsRollAndReadsCrossThem() throws {
        var config = LogConfig()
        config.segmentBytes = 400
        config.indexIntervalBytes = 100
        let log = try open(config)
        for round in 0..<30 { _ = try log.append(try batch(["r\(round)a", "r\(round)b"]), nowMs: 1) }
        XCTAssertGreaterThan(log.segmentCount, 5)
        let all = try values(log)
        XCTAssertEqual(all.count, 60)
        XCTAssertEqual(try values(log, from: 37).first, "r18b")
        try log.close()
        let reopened = try open(config)
        XCTAssertEqual(reopened.logEndOffset, 60)
        XCTAssertEqual(try values(reopened), all)
        XCTAssertEqual(reopened.leaderEpoch, log.leaderEpoch + 1, "every start begins a new leader epoch")
    }

    func testTornTailIsTruncatedOnUncleanStart() throws {
        let log = try open()
        for index in 0..<5 { _ = try log.append(try batch(["v\(index)"]), nowMs: 1) }
        let path = directory + "/00000000000000000000.log"
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        // Simulate a crash mid-write: half of a sixth batch, plus a damaged byte in no batch.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        let sixth = try batch(["torn"])
        handle.write(Data(sixth.readableBytesView.prefix(40)))
        try handle.close()
        let recovered = try open(clean: false)
        XCTAssertEqual(recovered.logEndOffset, 5)
        XCTAssertEqual(try values(recovered), ["v0", "v1", "v2", "v3", "v4"])
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size)
        _ = try recovered.append(try batch(["after"]), nowMs: 1)
        XCTAssertEqual(try values(recovered).last, "after")
    }

    func testCorruptBatchInTheMiddleTruncatesFromThere() throws {
        let log = try open()
        for index in 0..<4 { _ = try log.append(try batch(["v\(index)"]), nowMs: 1) }
        let path = directory + "/00000000000000000000.log"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let batchSize = bytes.count / 4
        bytes[batchSize * 2 + 70] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let recovered = try open(clean: false)
        XCTAssertEqual(recovered.logEndOffset, 2)
    }

    func testMissingOrCorruptIndexesAreRebuilt() throws {
        var config = LogConfig()
        config.indexIntervalBytes = 1
        let log = try open(config)
        for index in 0..<20 { _ = try log.append(try batch(["v\(index)"], timestamp: 1_000 + Int64(index) * 10), nowMs: 1) }
        try log.close()
        try FileManager.default.removeItem(atPath: directory + "/00000000000000000000.index")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/00000000000000000000.timeindex"))
        let reopened = try open(config)
        XCTAssertEqual(reopened.logEndOffset, 20)
        XCTAssertEqual(try values(reopened, from: 13).first, "v13")
        XCTAssertEqual(try reopened.offset(forTimestamp: 1_095)?.offset, 10)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/00000000000000000000.index"))
    }

    /// A producer may store a base timestamp near `Int64.max` with record deltas that pass it
    /// (Kafka adds them as Java longs, wrapping); a lookup by timestamp must not trap on it.
    func testTimestampLookupSurvivesDeltasPastInt64Max() throws {
        let log = try open()
        let records = [Record(timestampDelta: 0, offsetDelta: 0, value: ByteBuffer(string: "a")),
                       Record(timestampDelta: 5, offsetDelta: 1, value: ByteBuffer(string: "b"))]
        _ = try log.append(try RecordBatch(baseTimestamp: Int64.max - 1, maxTimestamp: Int64.max, records: records).encoded(), nowMs: 1)
        XCTAssertEqual(try log.offset(forTimestamp: Int64.max - 1)?.offset, 0)
        XCTAssertNil(try log.offset(forTimestamp: Int64.max), "the second record's timestamp wraps, as a Java long would")
    }

    func testTimestampLookupFindsTheFirstRecordAtOrAfter() throws {
        let log = try open()
        _ = try log.append(try batch(["a", "b", "c"], timestamp: 1_000), nowMs: 1)
        _ = try log.append(try batch(["d", "e"], timestamp: 2_000), nowMs: 1)
        XCTAssertEqual(try log.offset(forTimestamp: 0)?.offset, 0)
        XCTAssertEqual(try log.offset(forTimestamp: 1_001)?.offset, 1)
        XCTAssertEqual(try log.offset(forTimestamp: 1_003)?.offset, 3)
        XCTAssertEqual(try log.offset(forTimestamp: 2_001)?.timestamp, 2_001)
        XCTAssertNil(try log.offset(forTimestamp: 5_000))
        XCTAssertEqual(try log.maxTimestampOffset()?.offset, 4)
    }

    func testLogAppendTimeIsStampedByTheBroker() throws {
        let log = try open(LogConfig(["message.timestamp.type": "LogAppendTime"]))
        let result = try log.append(try batch(["a", "b"], timestamp: 5), nowMs: 1_234_567)
        XCTAssertEqual(result.logAppendTime, 1_234_567)
        let view = try XCTUnwrap(RecordSet(XCTUnwrap(log.read(from: 0, maxBytes: 1000).records)).batches.first)
        XCTAssertEqual(view.attributes.timestampType, .logAppendTime)
        XCTAssertEqual(view.maxTimestamp, 1_234_567)
        XCTAssertNoThrow(try view.validate())
    }

    func testDeleteRecordsAndRetentionMoveTheLogStart() throws {
        var config = LogConfig()
        config.segmentBytes = 300
        let log = try open(config)
        for index in 0..<20 { _ = try log.append(try batch(["v\(index)"], timestamp: Int64(index) * 1000), nowMs: 1) }
        XCTAssertEqual(try log.deleteRecords(before: 7), 7)
        XCTAssertEqual(log.logStartOffset, 7)
        XCTAssertThrowsError(try log.read(from: 3, maxBytes: 100))
        XCTAssertEqual(try values(log, from: 7).first, "v7")
        XCTAssertEqual(try log.deleteRecords(before: 2), 7, "the start never moves back")
        try log.close()
        XCTAssertEqual(try open(config).logStartOffset, 7, "the log start survives a restart")

        let reopened = try open(config)
        var retention = config
        retention.retentionMs = 10_000
        reopened.update(config: retention)
        let deleted = try reopened.enforceRetention(nowMs: 25_000)
        XCTAssertGreaterThan(deleted, 0)
        XCTAssertGreaterThan(reopened.logStartOffset, 7)
        XCTAssertEqual(reopened.logEndOffset, 20)
    }

    func testOffsetForLeaderEpochAcrossRestarts() throws {
        let first = try open()
        _ = try first.append(try batch(["a", "b"]), nowMs: 1)
        try first.close()
        let second = try open()
        _ = try second.append(try batch(["c"]), nowMs: 1)
        XCTAssertEqual(try second.endOffset(forLeaderEpoch: first.leaderEpoch)?.endOffset, 2)
        XCTAssertEqual(try second.endOffset(forLeaderEpoch: second.leaderEpoch)?.endOffset, 3)
        XCTAssertNil(try second.endOffset(forLeaderEpoch: -5))
    }

    /// A damaged `leader-epoch-checkpoint` once kept the broker from starting (a negative count
    /// trapped); now the partition opens and the epochs come back from the batches.
    func testADamagedLeaderEpochCheckpointIsRebuiltFromTheBatches() throws {
        let damages = ["0\n-1\n", "0\n9223372036854775807\n", "0\n99999999999999999999\n", "0\n2\n5 10\n3 20\n", "0\n1\n-4 0\n",
                       "1\n0\n", "garbage", ""]
        for damage in damages {
            try? FileManager.default.removeItem(atPath: directory)
            let first = try open()
            _ = try first.append(try batch(["a", "b"]), nowMs: 1)
            try first.close()
            let second = try open()
            _ = try second.append(try batch(["c"]), nowMs: 1)
            try second.close()
            try damage.write(toFile: directory + "/leader-epoch-checkpoint", atomically: false, encoding: .utf8)

            let third = try open()
            XCTAssertEqual(third.repairs.count, 1, "damage \(damage.debugDescription)")
            XCTAssertTrue(third.repairs.first?.contains("\(directory)/leader-epoch-checkpoint") ?? false)
            XCTAssertEqual(try third.endOffset(forLeaderEpoch: first.leaderEpoch)?.endOffset, 2, "damage \(damage.debugDescription)")
            XCTAssertEqual(try third.endOffset(forLeaderEpoch: second.leaderEpoch)?.endOffset, 3, "damage \(damage.debugDescription)")
            XCTAssertEqual(try values(third), ["a", "b", "c"])
            XCTAssertEqual(third.leaderEpoch, second.leaderEpoch + 1)
            try third.close()
            // Written again: the next start finds nothing to repair.
            let fourth = try open()
            XCTAssertEqual(fourth.repairs, [])
            XCTAssertEqual(try fourth.endOffset(forLeaderEpoch: first.leaderEpoch)?.endOffset, 2)
            try fourth.close()
        }
    }

    func testReadLimitsAndAtLeastOneBatch() throws {
        let log = try open()
        _ = try log.append(try batch([String(repeating: "x", count: 300)]), nowMs: 1)
        _ = try log.append(try batch(["small"]), nowMs: 1)
        let big = try XCTUnwrap(log.read(from: 0, maxBytes: 10).records)
        XCTAssertEqual(try RecordSet(big).batches.count, 1, "KIP-74: the first batch even if larger than max bytes")
        XCTAssertNil(try log.read(from: 0, maxBytes: 10, minOneBatch: false).records)
        XCTAssertEqual(try log.read(from: 2, maxBytes: 100).records?.readableBytes ?? 0, 0, "at the log end: no records")
        XCTAssertThrowsError(try log.read(from: 3, maxBytes: 100))
    }
}

final class LogCleanerTests: XCTestCase {
    func testCompactionKeepsTheLatestValuePerKeyAndDropsOldTombstones() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-compact-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = LogConfig(["cleanup.policy": "compact", "segment.bytes": "300", "delete.retention.ms": "1000"])
        config.indexIntervalBytes = 64
        let log = try PartitionLog(directory: directory, topic: "c", partition: 0, config: config, cleanShutdown: true, nowMs: 0)
        func append(_ key: String, _ value: String?, at time: Int64) throws {
            let batch = try RecordBatch(baseTimestamp: time, records: [Record(offsetDelta: 0, key: ByteBuffer(string: key), value: value.map { ByteBuffer(string: $0) })]).encoded()
            _ = try log.append(batch, nowMs: time)
        }
        for round in 0..<10 {
            for key in ["a", "b", "c"] { try append(key, "\(key)\(round)", at: 1_000 + Int64(round)) }
        }
        try append("b", nil, at: 2_000)        // tombstone for b
        try append("d", "d0", at: 2_001)
        let end = log.logEndOffset
        XCTAssertGreaterThan(log.segmentCount, 3)
        let keyless = try RecordBatch(baseTimestamp: 1, records: [Record(offsetDelta: 0, value: ByteBuffer(string: "no key"))]).encoded()
        XCTAssertThrowsError(try log.append(keyless, nowMs: 1)) {
            guard case .invalidRecord = $0 as? LogStoreError else { return XCTFail("\($0)") }
        }

        XCTAssertGreaterThan(try log.compact(nowMs: 2_500), 0)
        XCTAssertEqual(log.logEndOffset, end, "compaction never moves offsets")
        var latest: [String: String?] = [:]
        var offsets: [Int64] = []
        var next: Int64 = 0
        while next < log.logEndOffset, let bytes = try log.read(from: next, maxBytes: 1 << 20).records, bytes.readableBytes > 0 {
            for view in try RecordSet(bytes).batches {
                XCTAssertNoThrow(try view.validateIntegrity())
                let batch = try RecordBatch(view: view)
                for record in batch.records {
                    offsets.append(batch.offset(of: record))
                    latest.updateValue(record.value.map { String(buffer: $0) }, forKey: String(buffer: record.key!))
                }
                next = view.lastOffset + 1
            }
        }
        XCTAssertEqual(latest["a"], "a9")
        XCTAssertEqual(latest["c"], "c9")
        XCTAssertEqual(latest["d"], "d0")
        XCTAssertEqual(offsets, offsets.sorted(), "offsets stay in order")
        XCTAssertLessThan(offsets.count, 20, "superseded records are gone")
        // The tombstone is still there (too recent); much later it goes too.
        XCTAssertTrue(latest.keys.contains("b"), "\(latest) \(offsets) end \(end)")
        // Once newer data makes the tombstone's segment inactive and delete.retention.ms has
        // passed, the tombstone and everything it deleted are gone.
        for round in 0..<8 { try append("e", "e\(round)", at: 3_000 + Int64(round)) }
        try log.compact(nowMs: 100_000)
        var keysAfter: [String] = []
        next = 0
        while next < log.logEndOffset, let bytes = try log.read(from: next, maxBytes: 1 << 20).records, bytes.readableBytes > 0 {
            for view in try RecordSet(bytes).batches {
                keysAfter += try RecordBatch(view: view).records.map { String(buffer: $0.key!) }
                next = view.lastOffset + 1
            }
        }
        XCTAssertFalse(keysAfter.contains("b"), "the tombstone is dropped after delete.retention.ms: \(keysAfter)")
        try log.close()
        let reopened = try PartitionLog(directory: directory, topic: "c", partition: 0, config: config, cleanShutdown: false, nowMs: 100_000)
        XCTAssertEqual(reopened.logEndOffset, end + 8, "recovery accepts compacted batches with gaps")
    }
}

final class ProducerStateTests: XCTestCase {
    private func idempotent(_ values: [String], producerId: Int64 = 77, epoch: Int16 = 0, sequence: Int32) throws -> ByteBuffer {
        let records = values.enumerated().map { Record(offsetDelta: Int32($0.offset), value: ByteBuffer(string: $0.element)) }
        return try RecordBatch(baseTimestamp: 1, producerId: producerId, producerEpoch: epoch, baseSequence: sequence, records: records).encoded()
    }

    func testRetriesAreDeduplicatedAndGapsRefusedAcrossRestarts() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-idem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog(directory: directory, topic: "i", partition: 0, config: LogConfig(), cleanShutdown: true, nowMs: 0)
        let first = try log.append(try idempotent(["a", "b"], sequence: 0), nowMs: 1)
        XCTAssertEqual(first.baseOffset, 0)
        XCTAssertEqual(try log.append(try idempotent(["c"], sequence: 2), nowMs: 1).baseOffset, 2)
        // A retry of the first batch: same offsets answered, nothing written.
        let retry = try log.append(try idempotent(["a", "b"], sequence: 0), nowMs: 1)
        XCTAssertEqual(retry.baseOffset, 0)
        XCTAssertEqual(log.logEndOffset, 3)
        // A gap in the sequence.
        XCTAssertThrowsError(try log.append(try idempotent(["x"], sequence: 9), nowMs: 1)) {
            guard case .outOfOrderSequence = $0 as? LogStoreError else { return XCTFail("\($0)") }
        }
        // A new epoch must start at 0; an old epoch is fenced.
        XCTAssertThrowsError(try log.append(try idempotent(["y"], epoch: 1, sequence: 5), nowMs: 1))
        XCTAssertEqual(try log.append(try idempotent(["d"], epoch: 1, sequence: 0), nowMs: 1).baseOffset, 3)
        XCTAssertThrowsError(try log.append(try idempotent(["z"], epoch: 0, sequence: 3), nowMs: 1)) {
            guard case .invalidProducerEpoch = $0 as? LogStoreError else { return XCTFail("\($0)") }
        }
        // After a crash and restart the state comes back from the log: the retry is still caught.
        let reopened = try PartitionLog(directory: directory, topic: "i", partition: 0, config: LogConfig(), cleanShutdown: false, nowMs: 0)
        XCTAssertEqual(try reopened.append(try idempotent(["d"], epoch: 1, sequence: 0), nowMs: 1).baseOffset, 3)
        XCTAssertEqual(reopened.logEndOffset, 4)
        XCTAssertEqual(try reopened.append(try idempotent(["e"], epoch: 1, sequence: 1), nowMs: 1).baseOffset, 4)
        // producer.id.expiration.ms: an idle producer is forgotten, and may then start anywhere.
        XCTAssertEqual(reopened.expireProducers(nowMs: 1_000_000, expirationMs: 1_000), 1)
        XCTAssertTrue(reopened.activeProducers().isEmpty)
        XCTAssertNoThrow(try reopened.append(try idempotent(["f"], epoch: 1, sequence: 40), nowMs: 1))
        // Non-idempotent batches are never checked.
        _ = try reopened.append(try RecordBatch(baseTimestamp: 1, records: [Record(offsetDelta: 0, value: ByteBuffer(string: "plain"))]).encoded(), nowMs: 1)
        XCTAssertEqual(reopened.logEndOffset, 7)
    }
}

final class TransactionIndexTests: XCTestCase {
    private func transactional(_ value: String, producerId: Int64, sequence: Int32) throws -> ByteBuffer {
        try RecordBatch(attributes: RecordBatchAttributes(isTransactional: true), baseTimestamp: 1, producerId: producerId,
                        producerEpoch: 0, baseSequence: sequence, records: [Record(offsetDelta: 0, value: ByteBuffer(string: value))]).encoded()
    }

    func testLastStableOffsetAbortedListAndRebuild() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-txn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog(directory: directory, topic: "t", partition: 0, config: LogConfig(), cleanShutdown: true, nowMs: 0)
        _ = try log.append(try RecordBatch(baseTimestamp: 1, records: [Record(offsetDelta: 0, value: ByteBuffer(string: "plain"))]).encoded(), nowMs: 1)
        _ = try log.append(try transactional("a1", producerId: 1, sequence: 0), nowMs: 1)   // offset 1
        _ = try log.append(try transactional("b1", producerId: 2, sequence: 0), nowMs: 1)   // offset 2
        _ = try log.append(try transactional("a2", producerId: 1, sequence: 1), nowMs: 1)   // offset 3
        XCTAssertEqual(log.lastStableOffset, 1, "the first open transaction holds the stable offset back")
        XCTAssertEqual(try log.readSlice(from: 0, maxBytes: 1 << 20, committedOnly: true).slice.map { try RecordSet(ByteBuffer(bytes: $0.read())).batches.count }, 1)
        XCTAssertEqual(try log.appendMarker(producerId: 1, producerEpoch: 0, type: .abort, coordinatorEpoch: 0, nowMs: 1), 4)
        XCTAssertEqual(log.lastStableOffset, 2)
        XCTAssertEqual(try log.appendMarker(producerId: 2, producerEpoch: 0, type: .commit, coordinatorEpoch: 0, nowMs: 1), 5)
        XCTAssertEqual(log.lastStableOffset, 6)
        XCTAssertEqual(log.abortedTransactions(from: 0, to: 6).map(\.producerId), [1])
        XCTAssertEqual(log.abortedTransactions(from: 0, to: 6).map(\.firstOffset), [1])
        XCTAssertTrue(log.abortedTransactions(from: 5, to: 6).isEmpty)
        XCTAssertThrowsError(try log.appendMarker(producerId: 1, producerEpoch: -5, type: .commit, coordinatorEpoch: 0, nowMs: 1))
        // An open transaction and the aborted list come back after a crash.
        _ = try log.append(try transactional("c1", producerId: 3, sequence: 0), nowMs: 1)     // offset 6
        let reopened = try PartitionLog(directory: directory, topic: "t", partition: 0, config: LogConfig(), cleanShutdown: false, nowMs: 0)
        XCTAssertEqual(reopened.lastStableOffset, 6)
        XCTAssertEqual(reopened.abortedTransactions(from: 0, to: 7).map(\.producerId), [1])
    }

    /// Each aborted transaction is indexed in the `.txnindex` of the segment holding its marker,
    /// in Kafka's 34-byte layout; the files go with their segments and are rebuilt after a crash.
    func testAbortedTransactionsAreIndexedPerSegment() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-txnidx-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Every batch rolls a new segment.
        let config = LogConfig(["segment.bytes": "100"])
        func open(clean: Bool) throws -> PartitionLog {
            try PartitionLog(directory: directory, topic: "t", partition: 0, config: config, cleanShutdown: clean, nowMs: 0)
        }
        func txnindex(_ base: Int64) -> Data? {
            FileManager.default.contents(atPath: directory + "/" + String(format: "%020lld.txnindex", base))
        }
        let log = try open(clean: true)
        _ = try log.append(try transactional("a1", producerId: 1, sequence: 0), nowMs: 1)   // offset 0, segment 0
        _ = try log.append(try transactional("b1", producerId: 2, sequence: 0), nowMs: 1)   // offset 1, segment 1
        XCTAssertEqual(try log.appendMarker(producerId: 1, producerEpoch: 0, type: .abort, coordinatorEpoch: 0, nowMs: 1), 2)
        XCTAssertEqual(try log.appendMarker(producerId: 2, producerEpoch: 0, type: .abort, coordinatorEpoch: 0, nowMs: 1), 3)
        _ = try log.append(try transactional("c1", producerId: 3, sequence: 0), nowMs: 1)   // offset 4, segment 4
        XCTAssertEqual(log.segmentCount, 5)
        // Producer 1's marker is in segment 2: version 0, pid 1, first 0, last 2, LSO 1 (pid 2 still open).
        var expected = Data([0, 0])
        for value: Int64 in [1, 0, 2, 1] { withUnsafeBytes(of: value.bigEndian) { expected.append(contentsOf: $0) } }
        XCTAssertEqual(txnindex(2), expected)
        XCTAssertEqual(txnindex(3)?.count, 34)
        XCTAssertEqual(txnindex(0)?.count, 0, "every segment has an index, empty without aborts")
        XCTAssertEqual(log.abortedTransactions(from: 0, to: 4).map(\.producerId), [1, 2])
        XCTAssertEqual(log.abortedTransactions(from: 1, to: 4).map(\.producerId), [1, 2], "transaction 1 spans offset 1")
        XCTAssertEqual(log.abortedTransactions(from: 3, to: 5).map(\.producerId), [2], "a marker at the fetch offset still counts")
        XCTAssertEqual(log.abortedTransactions(from: 4, to: 5).map(\.producerId), [], "both ended before 4")
        XCTAssertEqual(log.abortedTransactions(from: 0, to: 1).map(\.producerId), [1], "only producer 1 has data below 1")
        try log.close()

        // A clean start reads the files; a lost file makes it rebuild every index from the log.
        try FileManager.default.removeItem(atPath: directory + "/" + String(format: "%020lld.txnindex", Int64(3)))
        let rebuilt = try open(clean: true)
        XCTAssertEqual(rebuilt.abortedTransactions(from: 0, to: 5).map(\.producerId), [1, 2])
        XCTAssertEqual(txnindex(3)?.count, 34)
        XCTAssertEqual(rebuilt.lastStableOffset, 4, "producer 3's transaction is still open")
        // A torn entry left by a crash is replaced by what the log says.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/" + String(format: "%020lld.txnindex", Int64(2))))
        try handle.truncate(atOffset: 20)
        try handle.close()
        let recovered = try open(clean: false)
        XCTAssertEqual(txnindex(2), expected)
        XCTAssertEqual(recovered.abortedTransactions(from: 0, to: 5).map(\.producerId), [1, 2])
        // DeleteRecords drops whole segments with their indexes.
        XCTAssertEqual(try recovered.deleteRecords(before: 3), 3)
        XCTAssertNil(txnindex(2))
        XCTAssertEqual(recovered.abortedTransactions(from: 3, to: 5).map(\.producerId), [2])
    }
}

final class ProducerStateSnapshotTests: XCTestCase {
    func testCleanCloseSnapshotsAndACorruptSnapshotIsIgnored() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-snap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func open() throws -> PartitionLog {
            try PartitionLog(directory: directory, topic: "s", partition: 0, config: LogConfig(), cleanShutdown: true, nowMs: 0)
        }
        func batch(_ sequence: Int32, transactional: Bool = false) throws -> ByteBuffer {
            try RecordBatch(attributes: RecordBatchAttributes(isTransactional: transactional), baseTimestamp: 1, producerId: 5, producerEpoch: 0,
                            baseSequence: sequence, records: [Record(offsetDelta: 0, value: ByteBuffer(string: "v\(sequence)"))]).encoded()
        }
        let log = try open()
        _ = try log.append(try batch(0), nowMs: 1)
        _ = try log.append(try batch(1, transactional: true), nowMs: 1)
        try log.close()
        let snapshot = directory + "/producer-state.snapshot"
        XCTAssertTrue(FileManager.default.fileExists(atPath: snapshot))
        let reopened = try open()
        XCTAssertFalse(FileManager.default.fileExists(atPath: snapshot), "a snapshot is used once")
        XCTAssertEqual(try reopened.append(try batch(1, transactional: true), nowMs: 1).baseOffset, 1, "the retry is still recognised")
        XCTAssertEqual(reopened.lastStableOffset, 1, "the open transaction came back from the snapshot")
        try reopened.close()
        // Damage the snapshot: the state is rebuilt from the log instead.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: snapshot))
        bytes[12] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: snapshot))
        let rebuilt = try open()
        XCTAssertEqual(try rebuilt.append(try batch(1, transactional: true), nowMs: 1).baseOffset, 1)
        XCTAssertEqual(rebuilt.lastStableOffset, 1)
        XCTAssertThrowsError(try rebuilt.append(try batch(7), nowMs: 1))
    }
}
