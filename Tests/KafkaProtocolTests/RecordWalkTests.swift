import KafkaProtocol
import NIOCore
import XCTest

/// The broker's check of a produced batch's records (Kafka's LogValidator): every record's
/// framing, the count and the offset deltas, plain and in every codec.
final class RecordWalkTests: XCTestCase {
    private let codecs: [CompressionCodec] = [.none, .gzip, .snappy, .lz4, .zstd]

    /// One record's bytes as Kafka lays them out, with its length prefix.
    private func record(offsetDelta: Int64, key: [UInt8]?, value: [UInt8]?, headerCount: Int64 = 0, bodyPadding: [UInt8] = []) -> [UInt8] {
        var body: [UInt8] = [0]
        body += varint(offsetDelta * 10) + varint(offsetDelta)
        body += key.map { varint(Int64($0.count)) + $0 } ?? varint(-1)
        body += value.map { varint(Int64($0.count)) + $0 } ?? varint(-1)
        body += varint(headerCount) + bodyPadding
        return varint(Int64(body.count)) + body
    }

    private func varint(_ value: Int64) -> [UInt8] {
        var bytes = ByteBuffer()
        bytes.writeVarint(Int32(value))
        return Array(bytes.readableBytesView)
    }

    /// A batch around `records` with a correct length and CRC, so only the records can be wrong.
    private func batch(_ records: [UInt8], count: Int32, codec: CompressionCodec) throws -> RecordBatchView {
        let template = try RecordBatch(attributes: RecordBatchAttributes(compression: codec), baseTimestamp: 1_000,
                                       records: [Record(offsetDelta: 0, value: ByteBuffer(string: "x"))]).encoded()
        var bytes = template.getSlice(at: template.readerIndex, length: RecordBatch.headerSize)!
        var payload = try codec.compress(ByteBuffer(bytes: records))
        bytes.writeBuffer(&payload)
        bytes.setInteger(Int32(bytes.readableBytes - RecordBatch.logOverhead), at: 8)
        bytes.setInteger(max(0, count - 1), at: 23)
        bytes.setInteger(count, at: 57)
        bytes.setInteger(try RecordBatchView(bytes: bytes).computeChecksum(), at: RecordBatch.crcOffset)
        let view = try RecordBatchView(bytes: bytes)
        try view.validateIntegrity()
        return view
    }

    private func walk(_ view: RecordBatchView, keys: Bool = false, limit: Int = CompressionCodec.defaultDecompressionLimit) throws -> [RecordWalk.Entry] {
        var entries: [RecordWalk.Entry] = []
        try RecordWalk.forEachRecord(in: view, keys: keys, decompressionLimit: limit) { entry in
            entries.append(entry)
            return true
        }
        return entries
    }

    func testWalkSeesWhatDecodingSees() throws {
        for codec in codecs {
            let records = (0..<300).map { index in
                Record(timestampDelta: Int64(index), offsetDelta: Int32(index), key: index % 4 == 0 ? nil : ByteBuffer(string: "k\(index)"),
                       value: ByteBuffer(string: String(repeating: "v", count: index * 7)), headers: [RecordHeader(key: "h", value: nil)])
            }
            let view = try RecordBatchView(bytes: try RecordBatch(attributes: RecordBatchAttributes(compression: codec), baseTimestamp: 5, records: records).encoded())
            let entries = try walk(view, keys: true)
            XCTAssertEqual(entries.map(\.offsetDelta), records.map(\.offsetDelta), "\(codec)")
            XCTAssertEqual(entries.map(\.timestampDelta), records.map(\.timestampDelta), "\(codec)")
            XCTAssertEqual(entries.map(\.key), records.map(\.key), "\(codec)")
            XCTAssertEqual(entries.map(\.hasValue), records.map { $0.value != nil }, "\(codec)")
        }
    }

    func testMalformedRecordsAreRefusedInEveryCodec() throws {
        let good = record(offsetDelta: 0, key: [1], value: [2, 3]) + record(offsetDelta: 1, key: nil, value: [4])
        XCTAssertEqual(try walk(try batch(good, count: 2, codec: .none)).count, 2)
        let cases: [(String, [UInt8], Int32)] = [
            ("count one more than the records", good, 3),
            ("count one less than the records", good, 1),
            ("a huge count", good, Int32.max),
            ("garbage records", [UInt8](repeating: 0xA7, count: good.count), 2),
            ("trailing bytes", good + [0, 0, 0], 2),
            ("offset deltas 0, 2", record(offsetDelta: 0, key: nil, value: [1]) + record(offsetDelta: 2, key: nil, value: [1]), 2),
            ("a record length past the end", [0x7E] + Array(good.dropFirst()), 2),
            ("a key longer than its record", record(offsetDelta: 0, key: nil, value: nil).prefix(4) + varint(500) + [1, 2], 1),
            ("a header count of 2^30", record(offsetDelta: 0, key: nil, value: [1], headerCount: 1 << 30), 1),
            ("a six-byte offset delta", varint(11) + [0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 1, 0], 1),
            ("fields shorter than the record length", record(offsetDelta: 0, key: nil, value: [1], bodyPadding: [9, 9]), 1),
        ]
        for codec in codecs {
            for (name, bytes, count) in cases {
                let view = try batch(bytes, count: count, codec: codec)
                XCTAssertThrowsError(try walk(view), "\(name), \(codec)")
                // Reading accepts gaps between offsets: compaction leaves them in stored batches.
                if !name.hasPrefix("offset deltas") {
                    XCTAssertThrowsError(try view.decodeRecords(), "decoding: \(name), \(codec)")
                }
            }
        }
    }

    func testUndecompressablePayloadIsRefused() throws {
        for codec in codecs where codec != .none {
            var view = try batch(record(offsetDelta: 0, key: nil, value: [1]), count: 1, codec: .none)
            var bytes = view.bytes
            bytes.setInteger(RecordBatchAttributes(compression: codec).rawValue, at: bytes.readerIndex + RecordBatch.attributesOffset)
            bytes.setInteger(view.computeChecksum(), at: bytes.readerIndex + RecordBatch.crcOffset)
            view = try RecordBatchView(bytes: bytes)
            XCTAssertThrowsError(try walk(view), "\(codec)")
        }
    }

    /// A small batch expanding past the limit fails once the limit is passed, in every codec,
    /// while a walk within the limit reads it through the fixed window.
    func testExpansionStopsAtTheLimit() throws {
        let value = [UInt8](repeating: 0, count: 3 * 1024 * 1024)
        let records = record(offsetDelta: 0, key: [1], value: value) + record(offsetDelta: 1, key: [2], value: value)
        for codec in codecs where codec != .none {
            let view = try batch(records, count: 2, codec: codec)
            XCTAssertLessThan(view.sizeInBytes, 1024 * 1024, "\(codec)")
            XCTAssertThrowsError(try walk(view, limit: 4 * 1024 * 1024), "\(codec)")
            XCTAssertEqual(try walk(view, keys: true).map(\.key), [ByteBuffer(bytes: [1]), ByteBuffer(bytes: [2])], "\(codec)")
        }
    }
}
