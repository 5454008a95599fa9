@testable import Mirror
import XCTest

final class PartitionSendQueueTests: XCTestCase {
    func testAnswersAreReleasedInSendOrder() {
        var queue = PartitionSendQueue<String>(epoch: 1)
        let first = queue.enqueue()
        let second = queue.enqueue()
        let third = queue.enqueue()
        XCTAssertEqual(queue.inFlight, 3)
        XCTAssertEqual(queue.answer(third, "c"), [], "the third answer waits for the two before it")
        XCTAssertEqual(queue.answer(second, "b"), [])
        XCTAssertEqual(queue.answer(first, "a"), ["a", "b", "c"])
        XCTAssertEqual(queue.inFlight, 0)
        let fourth = queue.enqueue()
        XCTAssertEqual(queue.answer(fourth, "d"), ["d"])
    }
}
