import Foundation
import KafkaProtocol
import NIOCore
import XCTest

/// Batches Strait compresses must be read by the clients people run: kafka-python parses them,
/// and librdkafka 2.16 (confluent-kafka) and 2.0.2 (kcat) consume them from a test responder
/// (`Oracle/batch_interop.py`) that serves Strait's bytes in its Fetch responses.
final class ClientInteropTests: XCTestCase {
    func testClientsReadBatchesStraitCompressed() throws {
        var entries: [[String: Any]] = []
        for (index, codec) in CompressionCodec.allCases.enumerated() {
            let baseOffset = Int64(100 * index)
            let records = (0..<25).map { n in
                Record(timestampDelta: Int64(n * 7), offsetDelta: Int32(n),
                       key: n % 4 == 0 ? nil : ByteBuffer(string: "key-\(n)"),
                       value: ByteBuffer(string: "\(codec) value \(n) " + String(repeating: "strait ", count: n)),
                       headers: n % 3 == 0 ? [RecordHeader(key: "codec", value: ByteBuffer(string: "\(codec)")), RecordHeader(key: "n", value: nil)] : [])
            }
            let batch = RecordBatch(baseOffset: baseOffset, partitionLeaderEpoch: 0,
                                    attributes: RecordBatchAttributes(compression: codec),
                                    baseTimestamp: 1_764_000_000_000, records: records)
            let bytes = try batch.encoded()
            entries.append([
                "codec": codec.description, "hex": CanonicalForm.hex(bytes), "base_offset": baseOffset,
                "records": records.map { record -> [String: Any] in
                    [
                        "offset": batch.offset(of: record), "timestamp": batch.timestamp(of: record),
                        "key": record.key.map { String(buffer: $0) } as Any? ?? NSNull(),
                        "value": record.value.map { String(buffer: $0) } as Any? ?? NSNull(),
                        "headers": record.headers.map { [$0.key, $0.value.map { String(buffer: $0) } as Any? ?? NSNull()] },
                    ]
                },
            ])
        }
        let file = Python.temporaryFile("batches.json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONSerialization.data(withJSONObject: entries).write(to: file)
        let result = try Python.run("batch_interop.py", ["check", file.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("\(entries.count * 3) passed, 0 failed"), result.output)
    }
}
