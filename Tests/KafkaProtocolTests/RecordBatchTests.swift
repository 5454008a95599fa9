import KafkaProtocol
import NIOCore
import XCTest

final class RecordBatchTests: XCTestCase {
    private func sampleRecords(_ count: Int) -> [Record] {
        (0..<count).map { index in
            Record(
                timestampDelta: Int64(index * 3),
                offsetDelta: Int32(index),
                key: index % 3 == 0 ? nil : ByteBuffer(string: "key-\(index)"),
                value: index % 5 == 4 ? nil : ByteBuffer(string: String(repeating: "v\(index)", count: index % 40 + 1)),
                headers: index % 2 == 0 ? [RecordHeader(key: "h", value: ByteBuffer(string: "x")), RecordHeader(key: "n", value: nil)] : []
            )
        }
    }

    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
    }

    func testHardwareAndPortableCRCAgreeOnEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<80_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { raw in
            for length in [0, 1, 7, 8, 9, 255, 767, 768, 769, 3000, 24_575, 24_576, 24_577, 79_000] {
                for start in 0..<3 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    XCTAssertEqual(CRC32C.checksum(slice), CRC32C.portableChecksum(slice), "length \(length) start \(start)")
                }
            }
            // Continuing a running checksum equals one pass.
            let whole = CRC32C.checksum(raw)
            let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[..<12_345]))
            XCTAssertEqual(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[12_345...]), continuing: first), whole)
        }
    }

    func testBatchRoundTripsWithEveryCodec() throws {
        for codec in CompressionCodec.allCases {
            let batch = RecordBatch(
                baseOffset: 1000, partitionLeaderEpoch: 7,
                attributes: RecordBatchAttributes(compression: codec, isTransactional: true),
                baseTimestamp: 1_700_000_000_000, producerId: 42, producerEpoch: 3, baseSequence: 17,
                records: sampleRecords(200))
            let bytes = try batch.encoded()
            let view = try RecordBatchView(bytes: bytes)
            XCTAssertNoThrow(try view.validate(), "\(codec)")
            XCTAssertEqual(view.recordCount, 200)
            XCTAssertEqual(view.lastOffset, 1199)
            XCTAssertEqual(view.attributes.compression, codec)
            XCTAssertEqual(try RecordBatch(view: view), batch, "\(codec)")
        }
    }

    func testViewPatchesOffsetAndEpochWithoutBreakingTheCRC() throws {
        var view = try RecordBatchView(bytes: try RecordBatch(baseTimestamp: 5, records: sampleRecords(3)).encoded())
        view.setBaseOffset(77)
        view.setPartitionLeaderEpoch(9)
        XCTAssertNoThrow(try view.validate())
        XCTAssertEqual(view.baseOffset, 77)
        XCTAssertEqual(view.partitionLeaderEpoch, 9)
        view.setLogAppendTime(123_456)
        XCTAssertNoThrow(try view.validate())
        let decoded = try RecordBatch(view: view)
        XCTAssertEqual(decoded.attributes.timestampType, .logAppendTime)
        XCTAssertEqual(decoded.timestamp(of: decoded.records[2]), 123_456)
    }

    func testValidationRejectsWhatKafkaRejects() throws {
        let good = try RecordBatch(baseTimestamp: 5, records: sampleRecords(4)).encoded()
        // Flipped byte inside the records: CRC mismatch.
        var corrupt = good
        corrupt.setInteger(corrupt.getInteger(at: 70, as: UInt8.self)! ^ 0x40, at: 70)
        XCTAssertThrowsError(try RecordBatchView(bytes: corrupt).validate())
        // lastOffsetDelta inconsistent with the record count.
        let gap = try RecordBatch(lastOffsetDelta: 9, baseTimestamp: 5, records: sampleRecords(4)).encoded()
        XCTAssertThrowsError(try RecordBatchView(bytes: gap).validate())
        // Wrong magic.
        var magic = good
        magic.setInteger(Int8(1), at: 16)
        XCTAssertThrowsError(try RecordBatchView(bytes: magic).validate())
        // Length that disagrees with the bytes.
        XCTAssertThrowsError(try RecordBatchView(bytes: good.getSlice(at: 0, length: good.readableBytes - 1)!))
    }

    func testControlBatchesCarryMarkers() throws {
        let marker = ControlRecord(type: .commit, coordinatorEpoch: 5)
        let batch = RecordBatch(attributes: RecordBatchAttributes(isTransactional: true, isControl: true),
                                baseTimestamp: 1, producerId: 9, producerEpoch: 0, records: [marker.record()])
        let view = try RecordBatchView(bytes: try batch.encoded())
        XCTAssertTrue(view.attributes.isControl)
        let decoded = try RecordBatch(view: view)
        XCTAssertEqual(try ControlRecord(record: decoded.records[0]), marker)
    }

    func testPartialTrailingBatchIsRecognisedAndSkipped() throws {
        var set = ByteBuffer()
        var first = try RecordBatch(baseOffset: 0, baseTimestamp: 1, records: sampleRecords(5)).encoded()
        var second = try RecordBatch(baseOffset: 5, baseTimestamp: 1, records: sampleRecords(5)).encoded()
        set.writeBuffer(&first)
        let firstSize = set.readableBytes
        set.writeBuffer(&second)
        for cut in [firstSize, firstSize + 1, firstSize + 11, firstSize + 12, firstSize + 60, set.readableBytes - 1] {
            let records = try RecordSet(set.getSlice(at: 0, length: cut)!)
            XCTAssertEqual(records.batches.count, 1, "cut at \(cut)")
            XCTAssertEqual(records.truncatedTailBytes, cut - firstSize)
            XCTAssertEqual(records.batches[0].recordCount, 5)
        }
        XCTAssertEqual(try RecordSet(set).batches.count, 2)
    }

    func testLegacyMessagesIncludingCompressedWrappers() throws {
        // magic 1: two plain messages, then a gzip wrapper holding three with relative offsets.
        var set = ByteBuffer()
        LegacyFixtures.writeMessage(into: &set, offset: 0, magic: 1, attributes: 0, timestamp: 100, key: "a", value: "one")
        LegacyFixtures.writeMessage(into: &set, offset: 1, magic: 0, attributes: 0, timestamp: nil, key: nil, value: "two")
        var inner = ByteBuffer()
        for index in 0..<3 {
            LegacyFixtures.writeMessage(into: &inner, offset: Int64(index), magic: 1, attributes: 0, timestamp: 200 + Int64(index), key: "k\(index)", value: "inner-\(index)")
        }
        for codec in [CompressionCodec.gzip, .snappy, .lz4] {
            var wrapper = set
            let compressed = try codec.compress(inner)
            LegacyFixtures.writeMessage(into: &wrapper, offset: 4, magic: 1, attributes: Int8(codec.rawValue), timestamp: 999, key: nil, valueBytes: compressed)
            let entries = try RecordSet(wrapper).entries
            XCTAssertEqual(entries.count, 3)
            guard case .legacy(let last) = entries[2] else { return XCTFail("expected a legacy entry") }
            let flat = try last.flattened()
            XCTAssertEqual(flat.map(\.offset), [2, 3, 4], "\(codec)")
            XCTAssertEqual(flat.map { String(buffer: $0.value!) }, ["inner-0", "inner-1", "inner-2"])
            XCTAssertEqual(flat.map(\.timestamp), [200, 201, 202])
        }
        // A flipped bit fails the CRC-32.
        var bad = ByteBuffer()
        LegacyFixtures.writeMessage(into: &bad, offset: 0, magic: 1, attributes: 0, timestamp: 1, key: nil, value: "x")
        bad.setInteger(UInt8(0x79), at: bad.writerIndex - 1)
        XCTAssertThrowsError(try RecordSet(bad))
    }

    func testXerialAndRawSnappyBothDecode() throws {
        let text = ByteBuffer(string: String(repeating: "the quick brown fox ", count: 5000))
        let framed = try CompressionCodec.snappy.compress(text)
        XCTAssertEqual(Array(framed.readableBytesView.prefix(8)), [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
        XCTAssertEqual(try CompressionCodec.snappy.decompress(framed), text)
    }

    func testDecompressionBombsStopAtTheLimit() throws {
        let zeros = ByteBuffer(repeating: 0, count: 4 * 1024 * 1024)
        for codec in [CompressionCodec.gzip, .lz4, .zstd, .snappy] {
            let small = try codec.compress(zeros)
            XCTAssertLessThan(small.readableBytes, 300_000)
            XCTAssertThrowsError(try codec.decompress(small, limit: 1024 * 1024), "\(codec)")
            XCTAssertEqual(try codec.decompress(small).readableBytes, zeros.readableBytes)
        }
    }

    func testGarbageNeverDecompresses() {
        let garbage = ByteBuffer(bytes: (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        for codec in [CompressionCodec.gzip, .lz4, .zstd, .snappy] {
            XCTAssertThrowsError(try codec.decompress(garbage), "\(codec)")
        }
    }
}

/// Builds magic 0/1 messages by hand, the way pre-0.11 producers wrote them.
enum LegacyFixtures {
    static func writeMessage(into set: inout ByteBuffer, offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64?, key: String?, value: String) {
        writeMessage(into: &set, offset: offset, magic: magic, attributes: attributes, timestamp: timestamp, key: key, valueBytes: ByteBuffer(string: value))
    }

    static func writeMessage(into set: inout ByteBuffer, offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64?, key: String?, valueBytes: ByteBuffer) {
        var body = ByteBuffer()
        body.writeInteger(magic)
        body.writeInteger(attributes)
        if magic == 1 { body.writeInteger(timestamp ?? -1) }
        body.writeKafkaBytes(key.map { ByteBuffer(string: $0) }, compact: false)
        body.writeKafkaBytes(valueBytes, compact: false)
        let crc = body.withUnsafeReadableBytes { ieeeCRC32($0) }
        set.writeInteger(offset)
        set.writeInteger(Int32(body.readableBytes + 4))
        set.writeInteger(crc)
        set.writeBuffer(&body)
    }

    /// Bitwise CRC-32/IEEE: an implementation independent of the one under test.
    static func ieeeCRC32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
