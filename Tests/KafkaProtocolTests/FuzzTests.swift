import Foundation
import KafkaProtocol
import NIOCore
import XCTest

/// Mutated, truncated and random frames must never crash the codec, never hang it and never
/// make it allocate on the strength of an unchecked length. CI runs 100,000 frames;
/// `STRAIT_FUZZ_FRAMES=10000000 swift test --filter FuzzTests` runs more. The coverage-guided
/// fuzzer of the whole request path is `Tests/fuzz.sh` (docs/fuzzing.md).
final class FuzzTests: XCTestCase {
    /// SplitMix64: deterministic, so a failure names a seed that reproduces it.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func seedFrames() throws -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        let batch = try RecordBatch(baseTimestamp: 1_700_000_000_000, records: (0..<4).map {
            Record(offsetDelta: Int32($0), key: ByteBuffer(string: "k\($0)"), value: ByteBuffer(string: "value \($0)"),
                   headers: [RecordHeader(key: "h", value: ByteBuffer(string: "v"))])
        }).encoded()
        let gzipBatch = try RecordBatch(attributes: RecordBatchAttributes(compression: .gzip), baseTimestamp: 1,
                                        records: [Record(offsetDelta: 0, value: ByteBuffer(string: "zipped"))]).encoded()
        func add<M: KafkaRequest>(_ message: M, _ versions: ClosedRange<Int16>? = nil) throws {
            for version in versions ?? M.supportedVersions {
                var frame = ByteBuffer()
                let headerVersion = RequestHeader.version(apiKey: M.apiKey.rawValue, apiVersion: version)
                RequestHeader(requestApiKey: M.apiKey.rawValue, requestApiVersion: version, correlationId: 7, clientId: "fuzz")
                    .encode(into: &frame, headerVersion: headerVersion)
                try message.encode(into: &frame, version: version)
                frames.append(frame)
            }
        }
        try add(ProduceRequest(acks: -1, timeoutMs: 1000, topicData: [
            .init(name: "orders", partitionData: [.init(index: 0, records: batch), .init(index: 1, records: gzipBatch)]),
        ]))
        try add(FetchRequest(maxWaitMs: 500, minBytes: 1, topics: [
            .init(topic: "orders", partitions: [.init(partition: 0, fetchOffset: 10, partitionMaxBytes: 1 << 20)]),
        ]))
        try add(MetadataRequest(topics: [.init(name: "a"), .init(name: "b")], allowAutoTopicCreation: true))
        try add(ApiVersionsRequest(clientSoftwareName: "x", clientSoftwareVersion: "1"))
        try add(JoinGroupRequest(groupId: "g", sessionTimeoutMs: 10_000, memberId: "", protocolType: "consumer",
                                 protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 1, 0, 0, 0, 1, 0, 1, 0x61]))]))
        try add(CreateTopicsRequest(topics: [.init(name: "t", numPartitions: 3, replicationFactor: -1,
                                                   configs: [.init(name: "cleanup.policy", value: "compact")])], timeoutMs: 100))
        try add(OffsetCommitRequest(groupId: "g", topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 5, committedMetadata: "m")])]))
        try add(DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: "t", configurationKeys: nil)]))
        try add(SaslHandshakeRequest(mechanism: "SCRAM-SHA-512"))
        try add(SaslAuthenticateRequest(authBytes: ByteBuffer(string: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")))
        try add(DescribeAclsRequest(resourceTypeFilter: 2, resourceNameFilter: "orders", patternTypeFilter: 1, principalFilter: nil,
                                    hostFilter: nil, operation: 1, permissionType: 1))
        try add(CreateAclsRequest(creations: [.init(resourceType: 2, resourceName: "orders", resourcePatternType: 4, principal: "User:alice",
                                                    host: "*", operation: 3, permissionType: 3)]))
        try add(DeleteAclsRequest(filters: [.init(resourceTypeFilter: 3, resourceNameFilter: nil, patternTypeFilter: 1, principalFilter: "User:bob",
                                                  hostFilter: nil, operation: 1, permissionType: 1)]))
        try add(DescribeUserScramCredentialsRequest(users: [.init(name: "alice")]))
        try add(AlterUserScramCredentialsRequest(deletions: [.init(name: "bob", mechanism: 1)], upsertions: [
            .init(name: "alice", mechanism: 2, iterations: 8192, salt: ByteBuffer(bytes: Array(repeating: 7, count: 16)),
                  saltedPassword: ByteBuffer(bytes: Array(repeating: 9, count: 64))),
        ]))
        return frames
    }

    /// Decodes a frame as every API would see it: header, then body at that version.
    static func decodeFrame(_ frame: ByteBuffer) {
        var buffer = frame
        guard let header = try? RequestHeader(from: &buffer) else { return }
        guard let key = ApiKey(rawValue: header.requestApiKey), key.supportedVersions.contains(header.requestApiVersion) else { return }
        if let message = try? key.requestType.decodeComplete(from: buffer, version: header.requestApiVersion) {
            _ = try? message.encoded(version: header.requestApiVersion)
            if let produce = message as? ProduceRequest {
                for topic in produce.topicData {
                    for partition in topic.partitionData {
                        guard let records = partition.records, let set = try? RecordSet(records) else { continue }
                        for batch in set.batches { _ = try? RecordBatch(view: batch, decompressionLimit: 1 << 20) }
                    }
                }
            }
        }
        // The same bytes read as a response body of every version.
        for version in key.supportedVersions {
            _ = try? key.responseType.decodeComplete(from: buffer, version: version)
        }
    }

    static func mutate(_ seed: ByteBuffer, using rng: inout SplitMix) -> ByteBuffer {
        var bytes = Array(seed.readableBytesView)
        let operations = Int.random(in: 1...4, using: &rng)
        for _ in 0..<operations {
            guard !bytes.isEmpty else { break }
            let position = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes[position] = UInt8.random(in: 0...255, using: &rng)
            case 2: bytes.removeSubrange(position...)
            case 3: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            case 4:
                // A length-like field forced to an extreme.
                let extreme: [UInt8] = [[0x7F, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF], [0x80, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]].randomElement(using: &rng)!
                for (index, byte) in extreme.enumerated() where position + index < bytes.count { bytes[position + index] = byte }
            case 5:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            default:
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &rng)))
            }
        }
        return ByteBuffer(bytes: bytes)
    }

    func testMutatedFramesNeverCrash() throws {
        let count = ProcessInfo.processInfo.environment["STRAIT_FUZZ_FRAMES"].flatMap(Int.init) ?? 100_000
        let seedValue = ProcessInfo.processInfo.environment["STRAIT_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_125
        var rng = SplitMix(state: seedValue)
        let seeds = try Self.seedFrames()
        XCTAssertGreaterThan(seeds.count, 50)
        let started = Date()
        for index in 0..<count {
            let frame: ByteBuffer
            if index % 50 == 49 {
                frame = ByteBuffer(bytes: (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            } else {
                frame = Self.mutate(seeds[index % seeds.count], using: &rng)
            }
            Self.decodeFrame(frame)
        }
        print("fuzz: \(count) frames from seed \(seedValue) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
