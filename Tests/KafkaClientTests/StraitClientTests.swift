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
    func testAcksZeroAndOne() async throws { try await ClientScenarios(broker: broker).acksZeroAndOne() }
    func testRawBatchesRoundTrip() async throws { try await ClientScenarios(broker: broker).rawBatchesRoundTrip() }
    func testCooperativePatternGroup() async throws { try await ClientScenarios(broker: broker).cooperativePatternGroup() }
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
        let consumer = try ClientScenarios.earliestConsumer(consumerCluster, (0..<3).map { TopicPartition(topic, $0) })
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

/// Behaviour that needs control of the broker process or its files.
final class StraitBrokerControlTests: XCTestCase {
    /// With the broker down, `send` fills `buffer.memory`, then waits `max.block.ms` and fails;
    /// nothing beyond the buffer is held.
    func testBoundedBufferWhenTheBrokerIsDown() async throws {
        let broker = try TestBroker(.strait)
        let topic = "bounded-\(UUID().uuidString.prefix(8))"
        try await ClientScenarios(broker: broker).createTopic(topic, partitions: 1)
        let cluster = try broker.cluster()
        var config = ProducerConfig()
        config.bufferMemory = 256 * 1024
        config.maxBlock = .milliseconds(500)
        config.deliveryTimeout = .seconds(3)
        let producer = KafkaProducer(cluster: cluster, config: config)
        try await producer.sendAndWait(ProducerRecord(topic: topic, value: ClientScenarios.value("first")))
        broker.stop()
        let payload = ByteBuffer(repeating: 7, count: 1000)
        var accepted = 0
        var refusal: KafkaClientError?
        for _ in 0..<10_000 {
            do {
                try await producer.send(ProducerRecord(topic: topic, value: payload))
                accepted += 1
            } catch {
                refusal = error
                break
            }
        }
        guard case .bufferExhausted? = refusal else { return XCTFail("expected bufferExhausted, got \(String(describing: refusal)) after \(accepted)") }
        XCTAssertLessThanOrEqual(accepted * 1000, 256 * 1024 + 16 * 1024, "no more than buffer.memory (plus one batch) was accepted")
        XCTAssertGreaterThan(accepted, 100)
        await producer.close()
        await cluster.close()
    }

    /// A consumer whose log was cut below its position (the tail segment lost while the broker
    /// was down) is told so by OffsetForLeaderEpoch validation, and moves to the new end.
    func testLogTruncationIsReported() async throws {
        let broker = try TestBroker(.strait)
        let topic = "truncated-\(UUID().uuidString.prefix(8))"
        try await ClientScenarios(broker: broker).createTopic(topic, partitions: 1, configs: ["segment.bytes": "1024"])
        let cluster = try broker.cluster()
        let producer = KafkaProducer(cluster: cluster)
        for index in 0..<50 {
            try await producer.sendAndWait(ProducerRecord(topic: topic, partition: 0, value: ByteBuffer(string: "record-\(index)-" + String(repeating: "x", count: 80))))
        }
        await producer.close()
        let partition = TopicPartition(topic, 0)
        let consumer = try ClientScenarios.earliestConsumer(cluster, [partition])
        let records = try await ClientScenarios(broker: broker).pollUntil(consumer, count: 50)
        XCTAssertEqual(records.count, 50)
        XCTAssertEqual(consumer.position(partition), 50)

        // SIGKILL: connections drop at once (a graceful stop may leave a request of the
        // consumer's unanswered until request.timeout.ms).
        broker.kill()
        let directory = broker.dataDirectory + "/\(topic)-0"
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
        XCTAssertGreaterThan(segments.count, 2)
        let last = segments.last!.dropLast(4)
        for suffix in [".log", ".index", ".timeindex", ".txnindex"] { try? FileManager.default.removeItem(atPath: "\(directory)/\(last)\(suffix)") }
        try broker.start()

        var reported: KafkaClientError?
        var rereadBelow50 = 0
        let deadline = Date().addingTimeInterval(60)
        while reported == nil && Date() < deadline {
            do {
                rereadBelow50 += try await consumer.poll(timeout: .milliseconds(200)).count
            } catch {
                reported = error
            }
        }
        guard case .logTruncation(_, _, let position, let diverging)? = reported else {
            return XCTFail("no truncation reported: \(String(describing: reported)); \(rereadBelow50) records read again")
        }
        XCTAssertEqual(position, 50)
        XCTAssertEqual(diverging, Int64(last)!, "the log now ends where the lost segment began")
        XCTAssertEqual(consumer.position(partition), Int64(last)!, "auto.offset.reset moves the position to the new end")
        await consumer.close()
        await cluster.close()
    }

    /// A static member (KIP-345) that restarts within the session timeout gets its partitions
    /// back without a rebalance: the other member keeps its own, never revoked.
    func testStaticMemberRejoinsWithoutRebalance() async throws {
        let broker = try TestBroker(.strait)
        let topic = "static-\(UUID().uuidString.prefix(8))"
        try await ClientScenarios(broker: broker).createTopic(topic, partitions: 4)
        let group = "static-\(UUID().uuidString.prefix(8))"
        let ownership = Ownership()
        let revocations = Counter()
        func member(_ instance: String) throws -> KafkaConsumer {
            var config = ConsumerConfig(groupId: group)
            config.groupInstanceId = instance
            config.sessionTimeout = .seconds(30)
            config.heartbeatInterval = .milliseconds(300)
            let listener = KafkaConsumer.RebalanceListener(assigned: { ownership.assign(instance, $0) },
                                                           revoked: { partitions in
                                                               if instance == "s2" { revocations.add() }
                                                               ownership.revoke(instance, partitions)
                                                           })
            let consumer = KafkaConsumer(cluster: try broker.cluster(clientId: instance), config: config, rebalanceListener: listener)
            try consumer.subscribe(topics: [topic])
            return consumer
        }
        // Members poll on their own tasks, as applications do: a join waits for every member.
        func polling(_ consumer: KafkaConsumer) -> Task<Void, Never> {
            Task {
                while !Task.isCancelled { _ = try? await consumer.poll(timeout: .milliseconds(100)) }
            }
        }
        func waitFor(_ condition: () -> Bool) async {
            let deadline = Date().addingTimeInterval(30)
            while !condition() && Date() < deadline { try? await Task.sleep(nanoseconds: 50_000_000) }
        }
        let first = try member("s1")
        let second = try member("s2")
        let firstPolling = polling(first)
        let secondPolling = polling(second)
        await waitFor { first.assignment.count == 2 && second.assignment.count == 2 }
        let before = first.assignment
        XCTAssertEqual(before.count, 2)
        let revokedBefore = revocations.value
        firstPolling.cancel()
        await firstPolling.value
        await first.close()
        let again = try member("s1")
        let againPolling = polling(again)
        await waitFor { again.assignment.count == 2 }
        XCTAssertEqual(again.assignment, before, "the same partitions come back")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        XCTAssertEqual(revocations.value, revokedBefore, "the other member was not rebalanced")
        XCTAssertEqual(second.assignment.count, 2)
        againPolling.cancel()
        secondPolling.cancel()
        await againPolling.value
        await secondPolling.value
        await again.close()
        await second.close()
    }
}
