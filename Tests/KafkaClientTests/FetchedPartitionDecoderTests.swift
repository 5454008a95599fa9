import KafkaProtocol
import NIOCore
import XCTest

@testable import KafkaClient

/// The decoder on hand-made Fetch answers: what no broker of ours serves (legacy messages) and
/// the read_committed rules, record by record.
final class FetchedPartitionDecoderTests: XCTestCase {
    private let partition = TopicPartition("t", 0)

    private func batch(base: Int64, producerId: Int64 = -1, transactional: Bool = false, values: [String]) throws -> ByteBuffer {
        var batch = RecordBatch(baseOffset: base, attributes: RecordBatchAttributes(isTransactional: transactional), baseTimestamp: 1_000,
                                producerId: producerId, producerEpoch: transactional ? 0 : -1, baseSequence: transactional ? 0 : -1,
                                records: values.enumerated().map { Record(offsetDelta: Int32($0.offset), value: ByteBuffer(string: $0.element)) })
        batch.partitionLeaderEpoch = 3
        return try batch.encoded()
    }

    private func marker(at offset: Int64, producerId: Int64, type: ControlRecord.ControlType) throws -> ByteBuffer {
        try RecordBatch(baseOffset: offset, attributes: RecordBatchAttributes(isTransactional: true, isControl: true), baseTimestamp: 1_000,
                        producerId: producerId, producerEpoch: 0, records: [ControlRecord(type: type, coordinatorEpoch: 0).record()]).encoded()
    }

    private func answer(_ parts: [ByteBuffer], aborted: [(Int64, Int64)]? = nil) -> FetchResponse.PartitionData {
        var records = ByteBuffer()
        for var part in parts { records.writeBuffer(&part) }
        return FetchResponse.PartitionData(partitionIndex: 0, highWatermark: 100, lastStableOffset: 100, logStartOffset: 0,
                                           abortedTransactions: aborted?.map { .init(producerId: $0.0, firstOffset: $0.1) }, records: records)
    }

    func testReadCommittedDropsAbortedBatchesAndMarkers() throws {
        let parts = [
            try batch(base: 0, producerId: 7, transactional: true, values: ["a0", "a1"]),   // aborted
            try batch(base: 2, producerId: 8, transactional: true, values: ["c0"]),         // committed
            try marker(at: 3, producerId: 7, type: .abort),
            try batch(base: 4, producerId: 7, transactional: true, values: ["a2"]),         // a later, committed transaction of 7
            try marker(at: 5, producerId: 8, type: .commit),
            try marker(at: 6, producerId: 7, type: .commit),
            try batch(base: 7, values: ["plain"]),
        ]
        let committed = FetchedPartitionDecoder(isolationLevel: .readCommitted, checkCRCs: true).decode(partition, position: 0, answer(parts, aborted: [(7, 0)]))
        let fetch = try XCTUnwrap(try committed.get())
        XCTAssertEqual(try fetch.records().map { String(buffer: $0.value!) }, ["c0", "a2", "plain"])
        XCTAssertEqual(fetch.nextOffset, 8, "the position moves past markers and aborted data")
        let everything = FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true).decode(partition, position: 0, answer(parts, aborted: nil))
        XCTAssertEqual(try XCTUnwrap(try everything.get()).records().map { String(buffer: $0.value!) }, ["a0", "a1", "c0", "a2", "plain"])
    }

    func testPositionInsideABatchAndCorruption() throws {
        let data = answer([try batch(base: 10, values: ["x10", "x11", "x12"])])
        let fetch = try XCTUnwrap(try FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true).decode(partition, position: 11, data).get())
        let records = try fetch.records()
        XCTAssertEqual(records.map(\.offset), [11, 12])
        XCTAssertEqual(records.first?.leaderEpoch, 3)
        var corrupt = try batch(base: 10, values: ["x10"])
        corrupt.setInteger(UInt8(0x55), at: corrupt.writerIndex - 1)
        guard case .failure(.codec) = FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true).decode(partition, position: 10, answer([corrupt])) else {
            return XCTFail("a batch whose CRC fails is reported")
        }
        guard case .failure(.offsetOutOfRange) = FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true)
            .decode(partition, position: 10, FetchResponse.PartitionData(partitionIndex: 0, errorCode: ErrorCode.offsetOutOfRange.rawValue, highWatermark: -1)) else {
            return XCTFail("OFFSET_OUT_OF_RANGE is typed")
        }
    }

    /// Magic 1 messages from an old cluster: a plain one and a gzip wrapper whose inner offsets
    /// are relative (the wrapper carries the last one's absolute offset).
    func testLegacyMessagesAreUnwrapped() throws {
        func message(offset: Int64, attributes: Int8, timestamp: Int64, key: String?, value: ByteBuffer) -> ByteBuffer {
            var body = ByteBuffer()
            body.writeInteger(Int8(1))
            body.writeInteger(attributes)
            body.writeInteger(timestamp)
            body.writeKafkaBytes(key.map { ByteBuffer(string: $0) }, compact: false)
            body.writeKafkaBytes(value, compact: false)
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in body.readableBytesView {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            var entry = ByteBuffer()
            entry.writeInteger(offset)
            entry.writeInteger(Int32(body.readableBytes + 4))
            entry.writeInteger(~crc)
            entry.writeBuffer(&body)
            return entry
        }
        var inner = ByteBuffer()
        for index in 0..<3 {
            var one = message(offset: Int64(index), attributes: 0, timestamp: 2_000 + Int64(index), key: "k\(index)", value: ByteBuffer(string: "inner-\(index)"))
            inner.writeBuffer(&one)
        }
        let wrapper = message(offset: 5, attributes: Int8(CompressionCodec.gzip.rawValue), timestamp: 2_002, key: nil, value: try CompressionCodec.gzip.compress(inner))
        let plain = message(offset: 2, attributes: 0, timestamp: 1_000, key: nil, value: ByteBuffer(string: "plain"))
        let fetch = try XCTUnwrap(try FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true).decode(partition, position: 2, answer([plain, wrapper])).get())
        let records = try fetch.records()
        XCTAssertEqual(records.map(\.offset), [2, 3, 4, 5])
        XCTAssertEqual(records.map { String(buffer: $0.value!) }, ["plain", "inner-0", "inner-1", "inner-2"])
        XCTAssertEqual(records.map(\.leaderEpoch), [-1, -1, -1, -1])
        XCTAssertEqual(fetch.nextOffset, 6)
    }
}
