import FuzzTargets
import XCTest

/// Every seed of the checked-in corpus and every input a fuzz run has found (one file each
/// under `Tests/Fuzz/regressions/<target>/`), replayed through its target: a finding, once
/// fixed, stays fixed.
final class FuzzCorpusTests: XCTestCase {
    private static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz").path

    private func replay(_ target: any FuzzTarget, _ name: String) throws {
        let seeds = try target.replay(directory: "\(Self.fuzzDirectory)/corpus/\(name)")
        XCTAssertGreaterThan(seeds, 20, "the \(name) seed corpus is missing")
        let regressions = "\(Self.fuzzDirectory)/regressions/\(name)"
        if FileManager.default.fileExists(atPath: regressions) { try target.replay(directory: regressions) }
    }

    func testRequestCorpusReplays() throws {
        try replay(try RequestPathTarget(), "requests")
    }

    func testRecordCorpusReplays() throws {
        try replay(RecordBatchTarget(), "records")
    }
}
