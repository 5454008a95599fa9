import Foundation
import KafkaProtocol
import LogStore
import NIOCore
import Logging
import XCTest

@testable import Broker

/// The dispatcher and handlers without a socket: frames in, frames out.
final class RequestDispatcherTests: XCTestCase {
    private var directory = ""
    private var dispatcher = RequestDispatcher()
    private var context: BrokerContext!

    override func setUp() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-broker-\(UUID().uuidString)").path
        let broker = try await InProcessBroker(config: BrokerConfig(dataDirectory: directory, properties: ["message.max.bytes": "2000"]),
                                               logger: Logger(label: "test"))
        context = broker.context
        dispatcher = broker.dispatcher
    }

    override func tearDown() {
        context.registry.closeAll()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func frame<R: KafkaRequest>(_ request: R, version: Int16, correlationId: Int32 = 7) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        RequestHeader(requestApiKey: R.apiKey.rawValue, requestApiVersion: version, correlationId: correlationId, clientId: "test")
            .encode(into: &buffer, headerVersion: RequestHeader.version(apiKey: R.apiKey.rawValue, apiVersion: version))
        try request.encode(into: &buffer, version: version)
        return buffer
    }

    private func call<R: KafkaRequest>(_ request: R, version: Int16) async throws -> R.Response {
        try await Self.call(dispatcher, request, version: version)
    }

    private static func call<R: KafkaRequest>(_ dispatcher: RequestDispatcher, _ request: R, version: Int16) async throws -> R.Response {
        var response: ByteBuffer
        switch await dispatcher.process(try frame(request, version: version)) {
        case .respond(let bytes):
            response = bytes
        case .respondParts(let parts):
            response = ByteBuffer()
            for part in parts {
                switch part {
                case .bytes(var bytes): response.writeBuffer(&bytes)
                case .file(let slice): response.writeBytes(try slice.read())
                }
            }
        default:
            XCTFail("no response")
            throw KafkaCodecError.truncated(field: "response")
        }
        let size: Int32 = try response.readKafkaInteger("size")
        XCTAssertEqual(Int(size), response.readableBytes)
        let header = try ResponseHeader(from: &response, headerVersion: ResponseHeader.version(apiKey: R.apiKey.rawValue, apiVersion: version))
        XCTAssertEqual(header.correlationId, 7)
        return try R.Response.decodeComplete(from: response, version: version)
    }

    func testApiVersionsListsExactlyTheRegisteredApis() async throws {
        let response = try await call(ApiVersionsRequest(clientSoftwareName: "t", clientSoftwareVersion: "1"), version: 3)
        let keys = Set(response.apiKeys.map(\.apiKey))
        XCTAssertTrue(keys.contains(ApiKey.produce.rawValue))
        XCTAssertTrue(keys.contains(ApiKey.fetch.rawValue))
        XCTAssertTrue(keys.contains(ApiKey.joinGroup.rawValue))
        XCTAssertTrue(keys.contains(ApiKey.endTxn.rawValue))
    }

    func testFutureApiVersionsGetsTheKIP511Answer() async throws {
        var buffer = ByteBuffer()
        RequestHeader(requestApiKey: 18, requestApiVersion: 5, correlationId: 9, clientId: "future").encode(into: &buffer, headerVersion: 2)
        buffer.writeBytes([0x00, 0x00, 0x00])
        guard case .respond(var response) = await dispatcher.process(buffer) else { return XCTFail("expected a response") }
        _ = try response.readKafkaInteger("size", as: Int32.self)
        XCTAssertEqual(try ResponseHeader(from: &response, headerVersion: 0).correlationId, 9)
        let body = try ApiVersionsResponse.decodeComplete(from: response, version: 0)
        XCTAssertEqual(body.errorCode, ErrorCode.unsupportedVersion.rawValue)
        XCTAssertFalse(body.apiKeys.isEmpty)
    }

    func testUnknownKeysUnsupportedVersionsAndGarbageCloseTheConnection() async throws {
        var unknown = ByteBuffer()
        RequestHeader(requestApiKey: 999, requestApiVersion: 0, correlationId: 1).encode(into: &unknown, headerVersion: 1)
        guard case .close = await dispatcher.process(unknown) else { return XCTFail("unknown key must close") }
        let old = try Self.frame(MetadataRequest(topics: nil), version: 1)
        var tooNew = old
        tooNew.setInteger(Int16(99), at: 2)
        guard case .close = await dispatcher.process(tooNew) else { return XCTFail("unsupported version must close") }
        var truncated = try Self.frame(CreateTopicsRequest(topics: [.init(name: "t", numPartitions: 1, replicationFactor: 1)]), version: 5)
        truncated.moveWriterIndex(to: truncated.writerIndex - 5)
        guard case .close = await dispatcher.process(truncated) else { return XCTFail("a truncated body must close") }
        guard case .close = await dispatcher.process(ByteBuffer(bytes: [0, 1])) else { return XCTFail("a tiny frame must close") }
    }

    func testProduceErrorsUseKafkaCodes() async throws {
        _ = try context.registry.create(name: "orders", partitions: 2, configs: [:], validateOnly: false, nowMs: 0)
        let good = try RecordBatch(baseTimestamp: WallClock.nowMs(), records: [Record(offsetDelta: 0, value: ByteBuffer(string: "x"))]).encoded()
        var badCRC = good
        badCRC.setInteger(UInt8(0x42), at: badCRC.writerIndex - 1)
        let huge = try RecordBatch(baseTimestamp: WallClock.nowMs(), records: [Record(offsetDelta: 0, value: ByteBuffer(string: String(repeating: "y", count: 5000)))]).encoded()
        let request = ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [
            .init(name: "orders", partitionData: [.init(index: 0, records: good), .init(index: 1, records: badCRC), .init(index: 9, records: good)]),
            .init(name: "bad/name", partitionData: [.init(index: 0, records: good)]),
            .init(name: "orders", partitionData: [.init(index: 0, records: huge)]),
        ])
        let response = try await call(request, version: 9)
        let codes = response.responses.flatMap { $0.partitionResponses.map(\.errorCode) }
        XCTAssertEqual(codes, [0, ErrorCode.corruptMessage.rawValue, ErrorCode.unknownTopicOrPartition.rawValue,
                               ErrorCode.invalidTopicException.rawValue, ErrorCode.messageTooLarge.rawValue])
        XCTAssertEqual(response.responses[0].partitionResponses[0].baseOffset, 0)
    }

    func testCreateTopicsValidatesNamesCountsAndConfigs() async throws {
        let request = CreateTopicsRequest(topics: [
            .init(name: "ok", numPartitions: 3, replicationFactor: -1, configs: [.init(name: "retention.ms", value: "1000")]),
            .init(name: String(repeating: "a", count: 250), numPartitions: 1, replicationFactor: 1),
            .init(name: "zero", numPartitions: 0, replicationFactor: 1),
            .init(name: "rf", numPartitions: 1, replicationFactor: 3),
            .init(name: "cfg", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "retention.ms", value: "soon")]),
            .init(name: "unknown-cfg", numPartitions: 1, replicationFactor: 1, configs: [.init(name: "no.such.config", value: "1")]),
        ], timeoutMs: 1000)
        let response = try await call(request, version: 7)
        XCTAssertEqual(response.topics.map(\.errorCode), [0, 17, 37, 38, 40, 40].map(Int16.init))
        XCTAssertEqual(response.topics[0].numPartitions, 3)
        XCTAssertNotEqual(response.topics[0].topicId, .zero)
        XCTAssertEqual(response.topics[0].configs?.first { $0.name == "retention.ms" }?.value, "1000")
        XCTAssertEqual(response.topics[0].configs?.first { $0.name == "retention.ms" }?.configSource, ConfigSource.dynamicTopicConfig.rawValue)
        let again = try await call(CreateTopicsRequest(topics: [.init(name: "ok", numPartitions: 1, replicationFactor: 1)]), version: 7)
        XCTAssertEqual(again.topics[0].errorCode, ErrorCode.topicAlreadyExists.rawValue)
        let collide = try await call(CreateTopicsRequest(topics: [.init(name: "o.k", numPartitions: 1, replicationFactor: 1),
                                                                    .init(name: "o_k", numPartitions: 1, replicationFactor: 1)]), version: 7)
        XCTAssertEqual(collide.topics.map(\.errorCode), [0, ErrorCode.invalidTopicException.rawValue])
    }

    func testMetadataKeepsTopicIdsAndAutoCreates() async throws {
        let created = try context.registry.create(name: "kept", partitions: 2, configs: [:], validateOnly: false, nowMs: 0)
        let response = try await call(MetadataRequest(topics: [.init(name: "kept"), .init(name: "auto")], allowAutoTopicCreation: true), version: 12)
        XCTAssertEqual(response.topics.map(\.errorCode), [0, 0])
        XCTAssertEqual(response.topics[0].topicId, created.id)
        XCTAssertEqual(response.topics[0].partitions.count, 2)
        XCTAssertEqual(response.topics[1].partitions.count, 1)
        let noAuto = try await call(MetadataRequest(topics: [.init(name: "never")], allowAutoTopicCreation: false), version: 12)
        XCTAssertEqual(noAuto.topics[0].errorCode, ErrorCode.unknownTopicOrPartition.rawValue)
    }

    func testFetchLongPollsUntilDataArrives() async throws {
        _ = try context.registry.create(name: "wait", partitions: 1, configs: [:], validateOnly: false, nowMs: 0)
        let fetch = FetchRequest(maxWaitMs: 5000, minBytes: 1, maxBytes: 1 << 20, topics: [
            .init(topic: "wait", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)]),
        ])
        let started = Date()
        let dispatcher = self.dispatcher
        async let answer = Self.call(dispatcher, fetch, version: 12)
        try await Task.sleep(nanoseconds: 200_000_000)
        let records = try RecordBatch(baseTimestamp: WallClock.nowMs(), records: [Record(offsetDelta: 0, value: ByteBuffer(string: "late"))]).encoded()
        _ = try await call(ProduceRequest(acks: 1, timeoutMs: 1000, topicData: [.init(name: "wait", partitionData: [.init(index: 0, records: records)])]), version: 9)
        let response = try await answer
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 0.15)
        XCTAssertLessThan(elapsed, 4, "woken by the append, not by max.wait.ms")
        XCTAssertEqual(response.responses[0].partitions[0].highWatermark, 1)
        XCTAssertGreaterThan(response.responses[0].partitions[0].records?.readableBytes ?? 0, 0)
    }

    func testFetchWithoutDataWaitsForMaxWait() async throws {
        _ = try context.registry.create(name: "idle", partitions: 1, configs: [:], validateOnly: false, nowMs: 0)
        let started = Date()
        let response = try await call(FetchRequest(maxWaitMs: 300, minBytes: 1, topics: [
            .init(topic: "idle", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1000)]),
        ]), version: 12)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.25)
        XCTAssertEqual(response.responses[0].partitions[0].records?.readableBytes, 0)
        XCTAssertEqual(response.sessionId, 0)
    }

    func testConfigsDescribeAlterAndIncrementalAlter() async throws {
        _ = try context.registry.create(name: "cfg", partitions: 1, configs: [:], validateOnly: false, nowMs: 0)
        let described = try await call(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "cfg", configurationKeys: nil)], includeSynonyms: true), version: 4)
        let maxBytes = try XCTUnwrap(described.results[0].configs.first { $0.name == "max.message.bytes" })
        XCTAssertEqual(maxBytes.value, "2000")
        XCTAssertEqual(maxBytes.configSource, ConfigSource.staticBrokerConfig.rawValue)
        XCTAssertEqual(maxBytes.synonyms.map(\.name), ["message.max.bytes", "message.max.bytes"])
        let segment = try XCTUnwrap(described.results[0].configs.first { $0.name == "segment.bytes" })
        XCTAssertEqual(segment.value, "1073741824")
        XCTAssertEqual(segment.configSource, ConfigSource.defaultConfig.rawValue)

        _ = try await call(IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "cfg", configs: [
            .init(name: "cleanup.policy", configOperation: 0, value: "compact"),
            .init(name: "cleanup.policy", configOperation: 2, value: "delete"),
            .init(name: "retention.ms", configOperation: 0, value: "5000"),
        ])]), version: 1)
        XCTAssertEqual(context.registry.topic(named: "cfg")?.metadata.configs, ["cleanup.policy": "compact,delete", "retention.ms": "5000"])
        XCTAssertEqual(context.registry.partition("cfg", 0)?.currentConfig.retentionMs, 5000)
        let bad = try await call(IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "cfg", configs: [
            .init(name: "retention.ms", configOperation: 0, value: "-7"),
        ])]), version: 1)
        XCTAssertEqual(bad.responses[0].errorCode, ErrorCode.invalidConfig.rawValue)
        _ = try await call(AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: "cfg", configs: [.init(name: "segment.ms", value: "60000")])]), version: 2)
        XCTAssertEqual(context.registry.topic(named: "cfg")?.metadata.configs, ["segment.ms": "60000"], "AlterConfigs replaces the whole set")
    }

    func testDescribeProducersListsIdempotentProducers() async throws {
        _ = try context.registry.create(name: "idem", partitions: 1, configs: [:], validateOnly: false, nowMs: 0)
        let batch = try RecordBatch(baseTimestamp: WallClock.nowMs(), producerId: 12, producerEpoch: 2, baseSequence: 0,
                                    records: [Record(offsetDelta: 0, value: ByteBuffer(string: "a")), Record(offsetDelta: 1, value: ByteBuffer(string: "b"))]).encoded()
        _ = try await call(ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [.init(name: "idem", partitionData: [.init(index: 0, records: batch)])]), version: 9)
        let response = try await call(DescribeProducersRequest(topics: [.init(name: "idem", partitionIndexes: [0, 5])]), version: 0)
        let partitions = response.topics[0].partitions
        XCTAssertEqual(partitions[0].activeProducers.map(\.producerId), [12])
        XCTAssertEqual(partitions[0].activeProducers.first?.producerEpoch, 2)
        XCTAssertEqual(partitions[0].activeProducers.first?.lastSequence, 1)
        XCTAssertEqual(partitions[1].errorCode, ErrorCode.unknownTopicOrPartition.rawValue)
    }
}
