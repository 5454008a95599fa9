import Foundation
import KafkaProtocol
import NIOCore
import XCTest

@testable import KafkaClient

/// The client against `strait broker` over TCP.
final class StraitClientTests: XCTestCase {
    private var broker: TestBroker!

    override func setUpWithError() throws {
        broker = try TestBroker(.strait)
    }

    override func tearDown() {
        broker = nil
    }

    func testProduceConsumeEveryCodec() async throws { try await ClientScenarios(broker: broker).produceAndConsumeEveryCodec() }
    func testKeylessRecordsAreSticky() async throws { try await ClientScenarios(broker: broker).keylessRecordsStickToOnePartitionPerBatch() }
    func testSendAndWaitOffsets() async throws { try await ClientScenarios(broker: broker).sendAndWaitReportsOffsets() }
    func testSeekPauseTimestamps() async throws { try await ClientScenarios(broker: broker).seekPauseAndTimestamps() }
    func testGroupOfThree() async throws { try await ClientScenarios(broker: broker).groupOfThree() }
    func testAdmin() async throws { try await ClientScenarios(broker: broker).adminOperations() }
}

/// Streams through broker restarts (Strait only: Tansu's memory storage forgets everything).
final class StraitRestartTests: XCTestCase {
    /// An idempotent producer and a consumer run while the broker is restarted twice, once
    /// gracefully and once with SIGKILL: every record arrives exactly once, in order per key.
    func testRestartsDuringProduceAndConsumeStreams() async throws {
        let broker = try TestBroker(.strait)
        let scenarios = ClientScenarios(broker: broker)
        let topic = "restart-\(UUID().uuidString.prefix(8))"
        try await scenarios.createTopic(topic, partitions: 3)
        let total = 60_000
        let producerCluster = try broker.cluster(clientId: "restart-producer")
        let producer = KafkaProducer(cluster: producerCluster)
        let consumerCluster = try broker.cluster(clientId: "restart-consumer")
        var consumerConfig = ConsumerConfig()
        consumerConfig.autoOffsetReset = .earliest
        let consumer = KafkaConsumer(cluster: consumerCluster, config: consumerConfig)
        try consumer.assign((0..<3).map { TopicPartition(topic, $0) })
        let seen = Seen()
        let failures = Counter()
        let orderViolations = Counter()

        let consuming = Task {
            var lastByKey: [String: Int] = [:]
            let deadline = Date().addingTimeInterval(120)
            while seen.count < total && Date() < deadline {
                guard let records = try? await consumer.poll(timeout: .milliseconds(200)) else { continue }
                for record in records {
                    let value = Int(String(buffer: record.value!))!
                    let key = String(buffer: record.key!)
                    if (lastByKey[key] ?? -1) >= value { orderViolations.add() }
                    lastByKey[key] = value
                    seen.insert(value)
                }
            }
        }
        for index in 0..<total {
            if index == total / 3 { try broker.restart() }
            if index == 2 * total / 3 {
                broker.kill()
                try broker.start()
            }
            try await producer.send(ProducerRecord(topic: topic, key: ClientScenarios.value("k\(index % 30)"), value: ClientScenarios.value("\(index)"))) { result in
                if case .failure = result { failures.add() }
            }
        }
        await producer.flush()
        await consuming.value
        XCTAssertEqual(failures.value, 0, "no record failed")
        XCTAssertEqual(seen.count, total, "no record lost")
        XCTAssertEqual(seen.duplicates, 0, "no record duplicated")
        XCTAssertEqual(orderViolations.value, 0, "order kept per key")
        await producer.close()
        await consumer.close()
        await producerCluster.close()
        await consumerCluster.close()
    }
}
