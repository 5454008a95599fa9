import Foundation
import KafkaClient
import KafkaProtocol
import NIOCore
import XCTest

/// Batches a hostile broker (or a source cluster, for the mirror) can hand the consumer: one
/// expanding to 320 MiB from a few hundred kilobytes, in every codec, is reported as unreadable
/// once it passes the 256 MiB ceiling with peak memory under 600 MiB; one whose header claims
/// 2^31 - 1 records is read for what it holds, without reserving for the claim.
final class HostileBatchTests: XCTestCase {
    private static let chunk = 1 << 20
    private static let chunks = 320

    /// One record whose value is `chunks` MiB of zeros, compressed as concatenated frames (gzip
    /// members, zstd and lz4 frames, xerial snappy blocks), so building it holds one MiB at a time.
    private func bomb(_ codec: CompressionCodec) throws -> ByteBuffer {
        let valueLength = Self.chunk * Self.chunks
        var head: [UInt8] = [0, 0, 0, 1]                        // attributes, timestamp and offset deltas, null key
        head += zigzag(Int64(valueLength))
        var prefix = zigzag(Int64(head.count + valueLength + 1))
        prefix += head
        var payload = ByteBuffer()
        let zeros = ByteBuffer(repeating: 0, count: Self.chunk)
        for index in 0..<Self.chunks {
            var plain = ByteBuffer()
            if index == 0 { plain.writeBytes(prefix) }
            plain.writeBytes(zeros.readableBytesView.prefix(Self.chunk - (index == 0 ? prefix.count : 0)))
            if index == Self.chunks - 1 { plain.writeBytes(Array(repeating: 0, count: prefix.count) + [0]) }   // the rest of the value, 0 headers
            var piece = try codec.compress(plain)
            if codec == .snappy && index > 0 { piece.moveReaderIndex(forwardBy: 16) }   // one xerial header, then blocks
            payload.writeBuffer(&piece)
        }
        var batch = try RecordBatch(attributes: RecordBatchAttributes(compression: codec), baseTimestamp: 1_000,
                                    records: [Record(offsetDelta: 0, value: ByteBuffer(string: "x"))]).encoded()
        batch.moveWriterIndex(to: batch.readerIndex + RecordBatch.headerSize)
        batch.writeBuffer(&payload)
        batch.setInteger(Int32(batch.readableBytes - RecordBatch.logOverhead), at: batch.readerIndex + 8)
        batch.setInteger(try RecordBatchView(bytes: batch).computeChecksum(), at: batch.readerIndex + RecordBatch.crcOffset)
        return batch
    }

    private func zigzag(_ value: Int64) -> [UInt8] {
        var bytes = ByteBuffer()
        bytes.writeVarint(Int32(value))
        return Array(bytes.readableBytesView)
    }

    /// VmHWM after resetting it (Linux: `echo 5 > /proc/self/clear_refs`), in bytes.
    private func peakResidentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try XCTUnwrap(Int(line.split(separator: " ").dropFirst().first ?? "")) * 1024
    }

    private func resetPeak() throws {
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    func testBombsInEveryCodecAreRefusedWithinTheMemoryBound() throws {
        for codec in [CompressionCodec.gzip, .snappy, .lz4, .zstd] {
            let records = try bomb(codec)
            XCTAssertLessThan(records.readableBytes, 16 << 20, "\(codec): the bomb is small on the wire")
            let data = FetchResponse.PartitionData(partitionIndex: 0, highWatermark: 1, lastStableOffset: 1, logStartOffset: 0,
                                                   abortedTransactions: nil, records: records)
            try resetPeak()
            let before = try peakResidentBytes()
            let decoded = FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true).decode(TopicPartition("t", 0), position: 0, data)
            guard case .success(let fetch?) = decoded else { return XCTFail("\(codec): the batch's framing is intact: \(decoded)") }
            XCTAssertThrowsError(try fetch.records(), "\(codec)") { error in
                XCTAssertTrue("\(error)".contains("exceeds"), "\(codec): \(error)")
            }
            let grown = try peakResidentBytes() - before
            XCTAssertLessThan(grown, 600 << 20, "\(codec): peak memory grew by \(grown >> 20) MiB")
        }
    }

    func testAForgedRecordCountReservesNothing() throws {
        var batch = try RecordBatch(baseTimestamp: 1_000, records: [Record(offsetDelta: 0, value: ByteBuffer(string: "only one"))]).encoded()
        batch.setInteger(Int32.max, at: batch.readerIndex + 57)
        batch.setInteger(Int32.max - 1, at: batch.readerIndex + 23)
        batch.setInteger(try RecordBatchView(bytes: batch).computeChecksum(), at: batch.readerIndex + RecordBatch.crcOffset)
        let data = FetchResponse.PartitionData(partitionIndex: 0, highWatermark: 1, lastStableOffset: 1, logStartOffset: 0,
                                               abortedTransactions: nil, records: batch)
        let decoded = FetchedPartitionDecoder(isolationLevel: .readUncommitted, checkCRCs: true).decode(TopicPartition("t", 0), position: 0, data)
        guard case .success(let fetch?) = decoded else { return XCTFail("the batch's framing is intact: \(decoded)") }
        XCTAssertEqual(fetch.recordCount, Int(Int32.max))
        XCTAssertLessThanOrEqual(fetch.reservation, 65_536)
        XCTAssertThrowsError(try fetch.records())
    }
}
