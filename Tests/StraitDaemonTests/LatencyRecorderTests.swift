import XCTest

@testable import StraitDaemon

final class LatencyRecorderTests: XCTestCase {
    func testBucketsCoverEveryValueInOrderWithinTheirPrecision() {
        var previous = -1
        for value: Int64 in [0, 1, 63, 127, 128, 129, 255, 256, 1000, 65_535, 1 << 20, 1 << 30] {
            let bucket = LatencyRecorder.bucket(value)
            XCTAssertGreaterThanOrEqual(bucket, previous, "buckets never decrease with the value")
            previous = bucket
            let lower = LatencyRecorder.lowerBound(bucket)
            XCTAssertLessThanOrEqual(lower, value)
            XCTAssertGreaterThanOrEqual(Double(lower), Double(value) * (1 - 1.0 / 64), "within 1/64 of \(value)")
        }
    }

    func testPercentilesOfAUniformSpread() {
        let recorder = LatencyRecorder()
        for value in 1...100_000 { recorder.record(microseconds: Int64(value)) }
        let summary = recorder.summary()
        XCTAssertEqual(summary.count, 100_000)
        XCTAssertEqual(summary.averageMs, 50.0005, accuracy: 0.001)
        XCTAssertEqual(summary.maxMs, 100)
        XCTAssertEqual(summary.p50Ms, 50, accuracy: 50.0 / 64)
        XCTAssertEqual(summary.p99Ms, 99, accuracy: 99.0 / 64)
        XCTAssertEqual(summary.p999Ms, 99.9, accuracy: 99.9 / 64)
    }
}
