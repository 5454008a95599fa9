@testable import KafkaClient
import XCTest

final class PartitionAssignorTests: XCTestCase {
    private func member(_ id: String, _ topics: [String], owns: [TopicPartition] = [], generation: Int32 = 1) -> GroupSubscription {
        GroupSubscription(memberId: id, groupInstanceId: nil, topics: topics, ownedPartitions: owns, generationId: generation)
    }

    func testCooperativeStickyKeepsPartitionsAndWithholdsMovesForOneRound() {
        let assignor = CooperativeStickyAssignor()
        let all = (0..<4).map { TopicPartition("t", $0) }
        let first = assignor.assign([member("a", ["t"], owns: all)], partitionCounts: ["t": 4])
        XCTAssertEqual(first["a"], all)
        // b joins: a keeps two, the two that move are withheld until a has revoked them.
        let second = assignor.assign([member("a", ["t"], owns: all), member("b", ["t"])], partitionCounts: ["t": 4])
        XCTAssertEqual(second["a"]?.count, 2)
        XCTAssertEqual(second["b"], [])
        let third = assignor.assign([member("a", ["t"], owns: second["a"]!), member("b", ["t"])], partitionCounts: ["t": 4])
        XCTAssertEqual(Set(third["b"]!), Set(all).subtracting(second["a"]!))
    }

    /// A partition still owned by a member that no longer subscribes to its topic (its view of
    /// the topics lags) is not given to anyone else until that member has let it go.
    func testAPartitionOfAnUnsubscribedTopicIsWithheldWhileClaimed() {
        let assignor = CooperativeStickyAssignor()
        let owned = [TopicPartition("t", 0), TopicPartition("t", 1)]
        let plan = assignor.assign([member("a", ["u"], owns: owned), member("b", ["t", "u"])], partitionCounts: ["t": 2, "u": 2])
        XCTAssertTrue(Set(plan["b"]!).isDisjoint(with: owned), "withheld while a still claims them")
        XCTAssertTrue(Set(plan["a"]!).isDisjoint(with: owned), "a no longer subscribes: it revokes them")
        let next = assignor.assign([member("a", ["u"], owns: plan["a"]!), member("b", ["t", "u"], owns: plan["b"]!)], partitionCounts: ["t": 2, "u": 2])
        XCTAssertTrue(Set(next["b"]!).isSuperset(of: owned), "released, then handed over")
    }
}
