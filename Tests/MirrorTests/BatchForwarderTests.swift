import KafkaProtocol
@testable import Mirror
import NIOCore
import XCTest

final class BatchForwarderTests: XCTestCase {
    private func batch(baseOffset: Int64 = 100, deltas: [Int32], attributes: RecordBatchAttributes = .init(), headers: [RecordHeader] = [],
                       maxTimestamp: Int64? = nil) throws -> RecordBatchView {
        var builder = RecordBatchBuilder(baseTimestamp: 1_000)
        for delta in deltas {
            builder.append(Record(timestampDelta: Int64(delta), offsetDelta: delta, key: ByteBuffer(string: "k\(delta)"),
                                  value: ByteBuffer(string: String(repeating: "v", count: 100)), headers: headers))
        }
        var buffer = ByteBuffer()
        try builder.build(baseOffset: baseOffset, attributes: attributes, lastOffsetDelta: deltas.last, maxTimestamp: maxTimestamp, into: &buffer)
        return try RecordBatchView(bytes: buffer)
    }

    private func records(_ outcome: BatchForwarder.Outcome) throws -> [Record] {
        try outcome.batches.flatMap { try RecordBatchView(bytes: $0.bytes).decodeRecords() }
    }

    private let forwarder = BatchForwarder(source: "A", target: "B", tracksOrigin: false)

    func testAProducerShapedBatchIsForwardedAsItIs() throws {
        let source = try batch(deltas: Array(0..<10), attributes: .init(compression: .none))
        let outcome = try forwarder.prepare(source, position: 100, limit: 1 << 20)
        XCTAssertFalse(outcome.rewritten)
        XCTAssertEqual(outcome.batches.map(\.bytes), [source.bytes])
        XCTAssertEqual(outcome.batches[0].runs, [OffsetRun(sourceOffset: 100, targetOffset: 0, span: 10)])
    }

    func testGapsPositionsAndSizeAreRewritten() throws {
        let gapped = try batch(deltas: [0, 2, 3, 7], attributes: .init(compression: .lz4))
        let outcome = try forwarder.prepare(gapped, position: 102, limit: 1 << 20)
        XCTAssertTrue(outcome.rewritten)
        let rebuilt = try RecordBatchView(bytes: outcome.batches[0].bytes)
        try rebuilt.validate()
        XCTAssertEqual(rebuilt.attributes.compression, .lz4)
        XCTAssertEqual(try records(outcome).map { $0.key.map { String(buffer: $0) } }, ["k2", "k3", "k7"], "below the position dropped")
        XCTAssertEqual(try records(outcome).map(\.offsetDelta), [0, 1, 2])
        XCTAssertEqual(outcome.batches[0].runs, [OffsetRun(sourceOffset: 102, targetOffset: 0, span: 2), OffsetRun(sourceOffset: 107, targetOffset: 2, span: 1)],
                       "the compaction gap starts a new run")
        XCTAssertEqual(rebuilt.baseTimestamp + Int64(try records(outcome)[2].timestampDelta), 1_007, "create times kept")

        let big = try batch(deltas: Array(0..<50))
        let split = try forwarder.prepare(big, position: 0, limit: 1_000)
        XCTAssertGreaterThan(split.batches.count, 5)
        XCTAssertTrue(split.batches.allSatisfy { $0.bytes.readableBytes <= 1_000 })
        XCTAssertEqual(try records(split).count, 50)
        XCTAssertEqual(split.batches.flatMap(\.runs).map(\.span).reduce(0, +), 50)
        XCTAssertEqual(split.batches[1].runs.first?.targetOffset, 0, "each batch counts from its own first record")
        XCTAssertEqual(split.batches[1].runs.first?.sourceOffset, split.batches[0].runs.last?.sourceEnd)
        XCTAssertThrowsError(try forwarder.prepare(big, position: 0, limit: 150))
    }

    func testControlBatchesAndLogAppendTime() throws {
        let control = try batch(deltas: [0], attributes: .init(isTransactional: true, isControl: true))
        XCTAssertTrue(try forwarder.prepare(control, position: 0, limit: 1 << 20).batches.isEmpty)
        let appended = try batch(deltas: [0, 1], attributes: .init(timestampType: .logAppendTime), maxTimestamp: 5_000)
        let outcome = try forwarder.prepare(appended, position: 0, limit: 1 << 20)
        let rebuilt = try RecordBatchView(bytes: outcome.batches[0].bytes)
        XCTAssertEqual(rebuilt.attributes.timestampType, .createTime)
        XCTAssertEqual(rebuilt.baseTimestamp, 5_000)
        XCTAssertEqual(rebuilt.maxTimestamp, 5_000)
    }

    func testOriginHeaderIsAddedAndStopsLoops() throws {
        let tracking = BatchForwarder(source: "A", target: "B", tracksOrigin: true)
        let fresh = try tracking.prepare(try batch(deltas: [0, 1]), position: 0, limit: 1 << 20)
        XCTAssertEqual(try records(fresh).map { RecordOrigin.clusters(in: $0.headers) }, [["A"], ["A"]])
        let cameFromB = try batch(deltas: [0, 1], headers: [RecordHeader(key: "strait.origin", value: ByteBuffer(string: "C,B"))])
        let looped = try tracking.prepare(cameFromB, position: 0, limit: 1 << 20)
        XCTAssertTrue(looped.batches.isEmpty)
        XCTAssertEqual(looped.recordsDropped, 2)
        let cameFromC = try batch(deltas: [0], headers: [RecordHeader(key: "strait.origin", value: ByteBuffer(string: "C"))])
        XCTAssertEqual(try records(try tracking.prepare(cameFromC, position: 0, limit: 1 << 20)).map { RecordOrigin.clusters(in: $0.headers) }, [["C", "A"]])
    }
}
