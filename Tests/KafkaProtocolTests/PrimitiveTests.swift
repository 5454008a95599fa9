import KafkaProtocol
import NIOCore
import XCTest

final class PrimitiveTests: XCTestCase {
    func testZigZagVarintsMatchTheProtocolGuideExamples() throws {
        let cases: [(Int64, [UInt8])] = [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]),
            (64, [0x80, 0x01]), (300, [0xD8, 0x04]), (Int64(Int32.max), [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
            (Int64(Int32.min), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        ]
        for (value, bytes) in cases {
            var buffer = ByteBuffer()
            buffer.writeVarint(Int32(value))
            XCTAssertEqual(Array(buffer.readableBytesView), bytes, "varint \(value)")
            XCTAssertEqual(ByteBuffer.varintSize(Int32(value)), bytes.count)
            XCTAssertEqual(try buffer.readVarint(), Int32(value))
            var long = ByteBuffer()
            long.writeVarlong(value)
            XCTAssertEqual(try long.readVarlong(), value)
        }
        for value in [Int64.min, Int64.max, -1_000_000_000_000, 1_234_567_890_123] {
            var buffer = ByteBuffer()
            buffer.writeVarlong(value)
            XCTAssertEqual(buffer.readableBytes, ByteBuffer.varlongSize(value))
            XCTAssertEqual(try buffer.readVarlong(), value)
        }
    }

    func testOverlongVarintsAreRejected() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        XCTAssertThrowsError(try buffer.readUnsignedVarint())
        var long = ByteBuffer(bytes: Array(repeating: 0xFF, count: 11))
        XCTAssertThrowsError(try long.readUnsignedVarlong())
        var truncated = ByteBuffer(bytes: [0x80, 0x80])
        XCTAssertThrowsError(try truncated.readUnsignedVarint())
    }

    func testCompactAndClassicStringsAndNulls() throws {
        for compact in [false, true] {
            var buffer = ByteBuffer()
            buffer.writeKafkaString("héllo", compact: compact)
            buffer.writeKafkaString(nil, compact: compact)
            buffer.writeKafkaBytes(ByteBuffer(bytes: [1, 2, 3]), compact: compact)
            buffer.writeKafkaBytes(nil, compact: compact)
            XCTAssertEqual(try buffer.readKafkaString("s", compact: compact), "héllo")
            XCTAssertNil(try buffer.readKafkaNullableString("s", compact: compact))
            XCTAssertEqual(try buffer.readKafkaBytes("b", compact: compact), ByteBuffer(bytes: [1, 2, 3]))
            XCTAssertNil(try buffer.readKafkaNullableBytes("b", compact: compact))
            XCTAssertEqual(buffer.readableBytes, 0)
        }
    }

    func testNullWhereTheVersionForbidsItIsAnError() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF])
        XCTAssertThrowsError(try buffer.readKafkaString("Topic", compact: false)) { error in
            XCTAssertEqual(error as? KafkaCodecError, .unexpectedNull(field: "Topic"))
        }
    }

    func testHugeCountsAreRejectedBeforeAllocating() {
        // An array claiming 2^31-1 int32 elements in a 4-byte body.
        var buffer = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1])
        XCTAssertThrowsError(try buffer.readKafkaArrayCount("Partitions", compact: false, minimumElementSize: 4))
        // A string claiming more bytes than remain.
        var string = ByteBuffer(bytes: [0x7F, 0xFF, 0x41])
        XCTAssertThrowsError(try string.readKafkaString("Name", compact: false))
        // A whole message: MetadataRequest v4 whose topic array claims 2^31-1 entries.
        var metadata = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0x00])
        XCTAssertThrowsError(try MetadataRequest(from: &metadata, version: 4))
    }

    func testTopicIdsPrintAsKafkaDoes() {
        let id = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1)
        XCTAssertEqual(id.description, "AAAAAAAAAAAAAAAAAAAAAQ")
        var generator = SystemRandomNumberGenerator()
        let random = KafkaUUID.random(using: &generator)
        XCTAssertEqual((random.mostSignificantBits >> 12) & 0xF, 4)
    }

    func testErrorCodesCarryKafkaNames() {
        XCTAssertEqual(ErrorCode.unknownTopicOrPartition.rawValue, 3)
        XCTAssertEqual(ErrorCode.unknownTopicOrPartition.kafkaName, "UNKNOWN_TOPIC_OR_PARTITION")
        XCTAssertEqual(ErrorCode(rawValue: 35), .unsupportedVersion)
        XCTAssertEqual(ErrorCode.noError.kafkaName, "NONE")
        XCTAssertEqual(ErrorCode.unknownServerError.kafkaName, "UNKNOWN_SERVER_ERROR")
        XCTAssertTrue(ErrorCode.notLeaderOrFollower.isRetriable)
        XCTAssertFalse(ErrorCode.topicAuthorizationFailed.isRetriable)
    }
}
