import KafkaProtocol
import NIOCore
import XCTest

final class FramingTests: XCTestCase {
    private func frame(_ header: RequestHeader, _ body: some KafkaRequest) throws -> ByteBuffer {
        var payload = ByteBuffer()
        header.encode(into: &payload, headerVersion: RequestHeader.version(apiKey: header.requestApiKey, apiVersion: header.requestApiVersion))
        try body.encode(into: &payload, version: header.requestApiVersion)
        var framed = ByteBuffer()
        framed.writeInteger(Int32(payload.readableBytes))
        framed.writeBuffer(&payload)
        return framed
    }

    private func sampleFrames() throws -> [ByteBuffer] {
        [
            try frame(RequestHeader(requestApiKey: 18, requestApiVersion: 3, correlationId: 1, clientId: "strait"),
                      ApiVersionsRequest(clientSoftwareName: "strait", clientSoftwareVersion: "0.1")),
            try frame(RequestHeader(requestApiKey: 3, requestApiVersion: 12, correlationId: 2, clientId: nil),
                      MetadataRequest(topics: [.init(topicId: .zero, name: "orders")], allowAutoTopicCreation: true)),
            try frame(RequestHeader(requestApiKey: 3, requestApiVersion: 1, correlationId: 3, clientId: "c"),
                      MetadataRequest(topics: nil)),
        ]
    }

    func testFramesFedOneByteAtATime() throws {
        let frames = try sampleFrames()
        var stream = ByteBuffer()
        for var f in frames { stream.writeBuffer(&f) }
        let decoder = KafkaFrameDecoder()
        var pending = ByteBuffer()
        var bodies: [ByteBuffer] = []
        for byte in stream.readableBytesView {
            pending.writeInteger(byte)
            while let body = try decoder.nextFrame(from: &pending) { bodies.append(body) }
        }
        XCTAssertEqual(bodies.count, frames.count)
        var correlationIds: [Int32] = []
        for var body in bodies {
            let header = try RequestHeader(from: &body)
            correlationIds.append(header.correlationId)
            let key = try XCTUnwrap(ApiKey(rawValue: header.requestApiKey))
            _ = try key.requestType.decodeComplete(from: body, version: header.requestApiVersion)
        }
        XCTAssertEqual(correlationIds, [1, 2, 3])
    }

    func testManyFramesInOneBuffer() throws {
        var stream = ByteBuffer()
        for _ in 0..<100 { for var f in try sampleFrames() { stream.writeBuffer(&f) } }
        let decoder = KafkaFrameDecoder()
        var count = 0
        while try decoder.nextFrame(from: &stream) != nil { count += 1 }
        XCTAssertEqual(count, 300)
        XCTAssertEqual(stream.readableBytes, 0)
    }

    func testOversizedAndNegativeFramesAreRejected() {
        let decoder = KafkaFrameDecoder(maximumFrameSize: 1024)
        var big = ByteBuffer(bytes: [0x00, 0x00, 0x04, 0x01])
        XCTAssertThrowsError(try decoder.nextFrame(from: &big)) { error in
            XCTAssertEqual(error as? KafkaCodecError, .frameTooLarge(size: 1025, limit: 1024))
        }
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE])
        XCTAssertThrowsError(try decoder.nextFrame(from: &negative))
    }

    func testHeaderVersionsFollowFlexibility() {
        XCTAssertEqual(RequestHeader.version(apiKey: ApiKey.metadata.rawValue, apiVersion: 8), 1)
        XCTAssertEqual(RequestHeader.version(apiKey: ApiKey.metadata.rawValue, apiVersion: 9), 2)
        XCTAssertEqual(ResponseHeader.version(apiKey: ApiKey.metadata.rawValue, apiVersion: 9), 1)
        XCTAssertEqual(ResponseHeader.version(apiKey: ApiKey.apiVersions.rawValue, apiVersion: 4), 0, "KIP-511: always v0")
        XCTAssertEqual(RequestHeader.version(apiKey: ApiKey.apiVersions.rawValue, apiVersion: 3), 2)
    }

    func testRequestHeaderV2KeepsClassicClientIdAndTaggedFields() throws {
        var tagged = ByteBuffer()
        tagged.writeInteger(UInt8(7))
        let header = RequestHeader(requestApiKey: 3, requestApiVersion: 12, correlationId: 9, clientId: "rdkafka",
                                   unknownTaggedFields: [TaggedField(tag: 5, data: tagged)])
        var buffer = ByteBuffer()
        header.encode(into: &buffer, headerVersion: 2)
        // INT16 length prefix for the client id, not a compact string.
        XCTAssertEqual(buffer.getInteger(at: 8, as: Int16.self), 7)
        XCTAssertEqual(try RequestHeader(from: &buffer), header)
        XCTAssertEqual(buffer.readableBytes, 0)
    }

    func testUnsupportedApiVersionsAnswersWithV0BodyListingKeys() throws {
        let response = ApiVersionsResponse.unsupportedVersion()
        let body = try response.encoded(version: 0)
        let decoded = try ApiVersionsResponse.decode(from: body, requestVersion: 7)
        XCTAssertEqual(decoded.errorCode, ErrorCode.unsupportedVersion.rawValue)
        XCTAssertEqual(decoded.apiKeys.count, ApiKey.allCases.count)
        let produce = try XCTUnwrap(decoded.apiKeys.first { $0.apiKey == 0 })
        XCTAssertEqual(produce.minVersion, 3)
        XCTAssertEqual(produce.maxVersion, 9)
    }

    func testUnknownTaggedFieldsSurviveARoundTrip() throws {
        var extra = ByteBuffer()
        extra.writeString("future")
        let response = MetadataResponse(clusterId: "c1", controllerId: 1,
                                        unknownTaggedFields: [TaggedField(tag: 42, data: extra)])
        let body = try response.encoded(version: 12)
        let decoded = try MetadataResponse.decodeComplete(from: body, version: 12)
        XCTAssertEqual(decoded, response)
        XCTAssertEqual(try decoded.encoded(version: 12), body)
    }

    func testTaggedFieldsAtDefaultAreOmittedAndSetOnesAreWritten() throws {
        let plain = ApiVersionsResponse(apiKeys: [])
        let withFeatures = ApiVersionsResponse(apiKeys: [], finalizedFeaturesEpoch: 7)
        let a = try plain.encoded(version: 3)
        let b = try withFeatures.encoded(version: 3)
        XCTAssertEqual(b.readableBytes, a.readableBytes + 1 + 1 + 8)
        XCTAssertEqual(try ApiVersionsResponse.decodeComplete(from: b, version: 3).finalizedFeaturesEpoch, 7)
    }
}

final class ConsumerProtocolTests: XCTestCase {
    func testSubscriptionAndAssignmentCarryTheirVersion() throws {
        let subscription = ConsumerProtocolSubscription(
            topics: ["orders", "payments"], userData: ByteBuffer(bytes: [1, 2]),
            ownedPartitions: [.init(topic: "orders", partitions: [0, 2])], generationId: 4, rackId: "r1")
        for version in ConsumerProtocolSubscription.supportedVersions {
            let bytes = try subscription.encodedWithVersionPrefix(version: version)
            XCTAssertEqual(bytes.getInteger(at: 0, as: Int16.self), version)
            let (readVersion, decoded) = try ConsumerProtocolSubscription.decodeWithVersionPrefix(from: bytes)
            XCTAssertEqual(readVersion, version)
            XCTAssertEqual(decoded.topics, ["orders", "payments"])
            XCTAssertEqual(decoded.ownedPartitions.isEmpty, version < 1)
        }
        let assignment = ConsumerProtocolAssignment(assignedPartitions: [.init(topic: "orders", partitions: [1])])
        let bytes = try assignment.encodedWithVersionPrefix(version: 3)
        XCTAssertEqual(try ConsumerProtocolAssignment.decodeWithVersionPrefix(from: bytes).message, assignment)
    }

    func testANewerSubscriptionVersionIsReadAsOurNewest() throws {
        // A version-9 subscription from a future client: v3 layout plus an appended field.
        var bytes = try ConsumerProtocolSubscription(topics: ["t"], rackId: "r").encodedWithVersionPrefix(version: 3)
        bytes.setInteger(Int16(9), at: 0)
        bytes.writeInteger(Int32(12345))
        let (version, decoded) = try ConsumerProtocolSubscription.decodeWithVersionPrefix(from: bytes)
        XCTAssertEqual(version, 9)
        XCTAssertEqual(decoded.topics, ["t"])
        XCTAssertEqual(decoded.rackId, "r")
    }
}
