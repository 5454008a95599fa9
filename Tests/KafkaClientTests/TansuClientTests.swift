import Foundation
import KafkaProtocol
import NIOCore
import XCTest

@testable import KafkaClient

/// The same scenarios against Tansu, a Kafka-protocol broker that is not ours.
final class TansuClientTests: XCTestCase {
    private var broker: TestBroker!

    override func setUpWithError() throws {
        broker = try TestBroker(.tansu)
    }

    override func tearDown() {
        broker = nil
    }

    private var scenarios: ClientScenarios {
        ClientScenarios(broker: broker, kafkaListOffsets: false, createPartitions: false, deleteRecords: false, groupOffsetAdmin: false,
                        acksZeroDeliversEverything: false)
    }

    func testProduceConsumeEveryCodec() async throws { try await scenarios.produceAndConsumeEveryCodec() }
    func testKeylessRecordsAreSticky() async throws { try await scenarios.keylessRecordsStickToOnePartitionPerBatch() }
    func testSendAndWaitOffsets() async throws { try await scenarios.sendAndWaitReportsOffsets() }
    func testSeekPauseTimestamps() async throws { try await scenarios.seekPauseAndTimestamps() }
    func testGroupOfThree() async throws { try await scenarios.groupOfThree() }
    func testAdmin() async throws { try await scenarios.adminOperations() }
    func testAcksZeroAndOne() async throws { try await scenarios.acksZeroAndOne() }
    func testRawBatchesRoundTrip() async throws { try await scenarios.rawBatchesRoundTrip() }
    func testCooperativePatternGroup() async throws { try await scenarios.cooperativePatternGroup() }

    /// What the scenarios leave out for Tansu, checked so a Tansu that fixes them is noticed.
    func testKnownDeviations() async throws {
        let cluster = try broker.cluster()
        let admin = KafkaAdmin(cluster: cluster)
        let topic = "deviation-\(UUID().uuidString.prefix(8))"
        try await admin.createTopic(.init(name: topic, partitions: 1))
        do {
            _ = try await admin.createPartitions([topic: 2])
            XCTFail("Tansu now has CreatePartitions: enable it in the scenarios")
        } catch {
            guard case .unsupportedVersion = error else { return XCTFail("\(error)") }
        }
        let producer = KafkaProducer(cluster: cluster)
        for index in 0..<10 {
            try await producer.send(ProducerRecord(topic: topic, partition: 0, value: ByteBuffer(string: "v\(index)")))
        }
        await producer.close()
        let partition = TopicPartition(topic, 0)
        let latest = try await admin.listOffsets([partition: .latest])
        XCTAssertNotEqual(latest[partition]?.offset, 10, "Tansu now answers LATEST with the high watermark: enable kafkaListOffsets")
        let group = "deviation-\(UUID().uuidString.prefix(8))"
        try await admin.alterGroupOffsets(group, offsets: [partition: .init(offset: 3, metadata: "kept?")])
        let listed = try await admin.listGroupOffsets(group)
        XCTAssertEqual(listed[partition]?.offset, 3)
        XCTAssertNil(listed[partition]?.metadata, "Tansu now keeps commit metadata: enable groupOffsetAdmin")
        do {
            try await admin.deleteGroupOffsets(group, partitions: [partition])
            XCTFail("Tansu now has OffsetDelete: enable groupOffsetAdmin")
        } catch {
            guard case .unsupportedVersion = error else { return XCTFail("\(error)") }
        }
        await cluster.close()
    }
}
