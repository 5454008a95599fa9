import KafkaProtocol
@testable import Mirror
import NIOCore
import XCTest

/// MM2's internal record layouts, byte for byte, against bytes written out by hand from the
/// documented schemas (Kafka's Struct encoding: big-endian integers, STRING as INT16 length and
/// UTF-8).
final class MM2RecordTests: XCTestCase {
    private func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer: buffer) }

    func testHeartbeat() throws {
        let heartbeat = Heartbeat(sourceClusterAlias: "us", targetClusterAlias: "eu", timestamp: 0x0102_0304_0506_0708)
        XCTAssertEqual(bytes(heartbeat.key), [0, 2, 0x75, 0x73, 0, 2, 0x65, 0x75])
        XCTAssertEqual(bytes(heartbeat.value), [0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(try Heartbeat(key: heartbeat.key, value: heartbeat.value), heartbeat)
    }

    func testCheckpoint() throws {
        let checkpoint = Checkpoint(group: "g", topic: "t", partition: 3, upstreamOffset: 10, offset: 7, metadata: "m")
        XCTAssertEqual(bytes(checkpoint.key), [0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 3])
        XCTAssertEqual(bytes(checkpoint.value), [0, 0] + [0, 0, 0, 0, 0, 0, 0, 10] + [0, 0, 0, 0, 0, 0, 0, 7] + [0, 1, 0x6d])
        XCTAssertEqual(try Checkpoint(key: checkpoint.key, value: checkpoint.value), checkpoint)
    }

    func testOffsetSyncHasNoVersion() throws {
        let sync = OffsetSync(topic: "orders", partition: 1, upstreamOffset: 256, offset: 255)
        XCTAssertEqual(bytes(sync.key), [0, 6] + Array("orders".utf8) + [0, 0, 0, 1])
        XCTAssertEqual(bytes(sync.value), [0, 0, 0, 0, 0, 0, 1, 0] + [0, 0, 0, 0, 0, 0, 0, 255])
        XCTAssertEqual(try OffsetSync(key: sync.key, value: sync.value), sync)
    }

    func testTruncatedOrUnknownVersionsAreRefused() {
        let heartbeat = Heartbeat(sourceClusterAlias: "a", targetClusterAlias: "b", timestamp: 1)
        var newer = ByteBuffer(bytes: [0, 1])
        newer.writeInteger(Int64(1))
        XCTAssertThrowsError(try Heartbeat(key: heartbeat.key, value: newer))
        XCTAssertThrowsError(try Checkpoint(key: ByteBuffer(bytes: [0, 5, 0x61]), value: ByteBuffer()))
        XCTAssertThrowsError(try OffsetSync(key: OffsetSync(topic: "t", partition: 0, upstreamOffset: 0, offset: 0).key, value: ByteBuffer(bytes: [0, 0, 0])))
    }
}
