import Foundation
import KafkaProtocol
import LogStore
import NIOCore
import XCTest

@testable import Broker

/// The zero-copy Fetch frame must be exactly what the generated encoder writes.
final class ZeroCopyFetchFrameTests: XCTestCase {
    func testZeroCopyFramesEqualTheGeneratedEncodingAtEveryVersion() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-zc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try PartitionLog(directory: directory, topic: "z", partition: 0, config: LogConfig(), cleanShutdown: true, nowMs: 0)
        for round in 0..<3 {
            let records = (0..<5).map { Record(offsetDelta: Int32($0), value: ByteBuffer(string: "value \(round)-\($0)")) }
            _ = try log.append(try RecordBatch(baseTimestamp: 1, records: records).encoded(), nowMs: 1)
        }
        for version in FetchRequest.supportedVersions {
            let first = try log.readSlice(from: 0, maxBytes: 1 << 20)
            let second = try log.readSlice(from: 5, maxBytes: 1 << 20)
            let sliceA = try XCTUnwrap(first.slice)
            let sliceB = try XCTUnwrap(second.slice)
            var response = FetchResponse(throttleTimeMs: 3, errorCode: 0, sessionId: 0, responses: [
                .init(topic: "z", partitions: [
                    .init(partitionIndex: 0, highWatermark: 15, lastStableOffset: 15, logStartOffset: 0, abortedTransactions: nil, records: ByteBuffer()),
                    .init(partitionIndex: 1, errorCode: 3, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: nil, records: ByteBuffer()),
                ]),
                .init(topic: "other", partitions: [
                    .init(partitionIndex: 4, highWatermark: 15, lastStableOffset: 15, logStartOffset: 0, abortedTransactions: [], records: ByteBuffer()),
                ]),
            ])
            let parts = try ZeroCopyFetchFrame.parts(response, slices: [[sliceA, nil], [sliceB]], correlationId: 99, version: version)
            var materialized: [UInt8] = []
            for part in parts {
                switch part {
                case .bytes(let buffer): materialized += Array(buffer.readableBytesView)
                case .file(let slice): materialized += try slice.read()
                }
            }
            response.responses[0].partitions[0].records = ByteBuffer(bytes: try sliceA.read())
            response.responses[1].partitions[0].records = ByteBuffer(bytes: try sliceB.read())
            guard case .respond(let expected) = RequestDispatcher.frame(response, correlationId: 99, apiKey: ApiKey.fetch.rawValue, version: version) else {
                return XCTFail("no frame")
            }
            XCTAssertEqual(materialized, Array(expected.readableBytesView), "Fetch v\(version)")
        }
    }
}
