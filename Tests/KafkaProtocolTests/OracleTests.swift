import Foundation
import KafkaProtocol
import NIOCore
import XCTest

/// kafka-python builds its messages from Kafka's published schemas: an oracle independent of our
/// schema files. It encodes random messages of every API and version; Strait decodes each,
/// re-encodes it, and must produce the same bytes; kafka-python then decodes Strait's bytes and
/// compares every field, and compares Strait's decoded fields with its own.
final class OracleTests: XCTestCase {
    func testEveryMessageAgreesWithKafkaPython() throws {
        let generated = Python.temporaryFile("oracle-in.json")
        let verified = Python.temporaryFile("oracle-out.json")
        defer {
            try? FileManager.default.removeItem(at: generated)
            try? FileManager.default.removeItem(at: verified)
        }
        let generation = try Python.run("oracle.py", ["generate", generated.path, "--samples", "6", "--seed", "2026"])
        XCTAssertEqual(generation.status, 0, generation.output)
        let samples = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: generated)) as? [[String: Any]])
        XCTAssertGreaterThan(samples.count, 1000)

        var results: [[String: Any]] = []
        var covered: Set<String> = []
        for sample in samples {
            let name = try XCTUnwrap(sample["name"] as? String)
            let version = Int16(try XCTUnwrap(sample["version"] as? Int))
            let hex = try XCTUnwrap(sample["hex"] as? String)
            let type = try XCTUnwrap(MessageCatalog.all[name], "no Swift type for \(name)")
            let source = CanonicalForm.bytes(fromHex: hex)
            do {
                let message = try type.decodeComplete(from: source, version: version)
                let reencoded = try message.encoded(version: version)
                XCTAssertEqual(CanonicalForm.hex(reencoded), hex, "\(name) v\(version) re-encodes differently")
                results.append([
                    "name": name, "version": Int(version), "source_hex": hex,
                    "swift_hex": CanonicalForm.hex(reencoded), "swift_fields": CanonicalForm.render(message),
                ])
                covered.insert("\(name) v\(version)")
            } catch {
                XCTFail("\(name) v\(version) does not decode: \(error)")
            }
        }
        // Every message and version of the catalog is exercised.
        for (name, type) in MessageCatalog.all {
            for version in type.supportedVersions {
                XCTAssertTrue(covered.contains("\(name) v\(version)"), "oracle produced no sample of \(name) v\(version)")
            }
        }
        try JSONSerialization.data(withJSONObject: results).write(to: verified)
        let verification = try Python.run("oracle.py", ["verify", verified.path])
        XCTAssertEqual(verification.status, 0, verification.output)
        XCTAssertTrue(verification.output.contains(" passed, 0 failed"), verification.output)
    }
}
