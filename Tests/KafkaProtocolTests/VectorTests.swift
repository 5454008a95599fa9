import Foundation
import KafkaProtocol
import NIOCore
import XCTest

/// Request frames captured from real clients by `Oracle/record_vectors.py` (a recording
/// responder): kafka-python 3.0.12, confluent-kafka (librdkafka 2.16) and kcat (librdkafka
/// 2.0.2). Each must decode and re-encode to the identical bytes, and each produced batch must
/// decompress to the records the client was asked to send.
final class VectorTests: XCTestCase {
    static let clients = ["kafka-python", "confluent-kafka", "kcat"]

    private func vectors(_ client: String) throws -> [[String: Any]] {
        let url = Python.repositoryRoot.appendingPathComponent("Tests/KafkaProtocolTests/Vectors/\(client).json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [[String: Any]])
    }

    func testEveryCapturedRequestDecodesAndReencodesIdentically() throws {
        for client in Self.clients {
            let entries = try vectors(client)
            XCTAssertGreaterThan(entries.count, 20, client)
            var apis: Set<Int> = []
            for entry in entries {
                let frame = CanonicalForm.bytes(fromHex: try XCTUnwrap(entry["hex"] as? String))
                // librdkafka 2.16 appends bytes after some Metadata v12 bodies; Kafka ignores them.
                let trailing = (entry["trailing_bytes"] as? String).map { $0.count / 2 } ?? 0
                var buffer = frame
                let header = try RequestHeader(from: &buffer)
                let context = "\(client) key \(header.requestApiKey) v\(header.requestApiVersion)"
                XCTAssertEqual(Int(header.requestApiKey), entry["api_key"] as? Int, context)
                XCTAssertEqual(Int(header.requestApiVersion), entry["api_version"] as? Int, context)
                let headerVersion = RequestHeader.version(apiKey: header.requestApiKey, apiVersion: header.requestApiVersion)
                XCTAssertEqual(Int(headerVersion), entry["header_version"] as? Int, context)
                let key = try XCTUnwrap(ApiKey(rawValue: header.requestApiKey), context)
                var body = buffer.getSlice(at: buffer.readerIndex, length: buffer.readableBytes - trailing)!
                let request = try key.requestType.init(from: &body, version: header.requestApiVersion)
                XCTAssertEqual(body.readableBytes, 0, "\(context): undecoded bytes")
                var reencoded = ByteBuffer()
                header.encode(into: &reencoded, headerVersion: headerVersion)
                try request.encode(into: &reencoded, version: header.requestApiVersion)
                XCTAssertEqual(CanonicalForm.hex(reencoded), CanonicalForm.hex(frame.getSlice(at: 0, length: frame.readableBytes - trailing)!), context)
                apis.insert(Int(header.requestApiKey))
                if let produce = request as? ProduceRequest {
                    try checkProducedRecords(produce, entry, context)
                }
            }
            for required: ApiKey in [.produce, .fetch, .metadata, .apiVersions, .findCoordinator, .joinGroup, .syncGroup, .heartbeat, .offsetCommit, .offsetFetch] {
                XCTAssertTrue(apis.contains(Int(required.rawValue)), "\(client) vectors lack \(required.name)")
            }
        }
    }

    func testEveryCodecIsCoveredByEveryClient() throws {
        for client in Self.clients {
            let codecs = Set(try vectors(client).compactMap { $0["batch_compression"] as? String })
            XCTAssertEqual(codecs, ["none", "gzip", "snappy", "lz4", "zstd"], client)
        }
    }

    private func checkProducedRecords(_ produce: ProduceRequest, _ entry: [String: Any], _ context: String) throws {
        guard let expected = entry["records"] as? [[String: Any]] else { return }
        var decoded: [Record] = []
        var codecs: Set<String> = []
        for topic in produce.topicData {
            for partition in topic.partitionData {
                let set = try RecordSet(try XCTUnwrap(partition.records, context))
                XCTAssertEqual(set.truncatedTailBytes, 0, context)
                for view in set.batches {
                    try view.validate()
                    codecs.insert(view.attributes.compression!.description)
                    decoded += try RecordBatch(view: view).records
                }
            }
        }
        if let codec = entry["batch_compression"] as? String {
            XCTAssertEqual(codecs, [codec], context)
        }
        if entry["records_complete"] as? Bool == true {
            XCTAssertEqual(decoded.count, expected.count, context)
        }
        for (record, want) in zip(decoded, expected) {
            XCTAssertEqual(record.key.map { String(buffer: $0) }, want["key"] as? String, context)
            XCTAssertEqual(record.value.map { String(buffer: $0) }, want["value"] as? String, context)
            let headers = (want["headers"] as? [[Any]]) ?? []
            XCTAssertEqual(record.headers.map(\.key), headers.map { $0[0] as? String ?? "" }, context)
            XCTAssertEqual(record.headers.map { $0.value.map { String(buffer: $0) } }, headers.map { $0[1] as? String }, context)
        }
    }
}
