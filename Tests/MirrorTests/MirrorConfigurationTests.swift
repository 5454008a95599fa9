import Foundation
import KafkaSecurity
@testable import Mirror
import XCTest

final class MirrorConfigurationTests: XCTestCase {
    func testJavaPropertiesSeparatorsContinuationsAndEscapes() {
        let text = """
        # comment
        ! also a comment
        a = 1
        b:2
        c 3
        long = one, \\
               two
        key\\ with\\ spaces = x\\ty
        unicode = \\u0041B
        empty =
        """
        let entries = JavaProperties(parsing: text).entries
        XCTAssertEqual(entries.map(\.key), ["a", "b", "c", "long", "key with spaces", "unicode", "empty"])
        XCTAssertEqual(entries.map(\.value), ["1", "2", "3", "one, two", "x\ty", "AB", ""])
        XCTAssertEqual(entries[3].line, 6, "a continued entry keeps its first line")
    }

    func testFlowsTakeTheirOwnSettingsThenTheTopLevelThenDefaults() throws {
        let configuration = try MirrorConfiguration(parsing: """
        clusters = east, west, central
        east.bootstrap.servers = e1:9092, e2:9093
        west.bootstrap.servers = w:9092
        central.bootstrap.servers = c:9092
        east.consumer.fetch.max.bytes = 1000
        central.producer.linger.ms = 7
        east->central.enabled = true
        west->central.enabled = true
        topics = orders.*
        west->central.topics = payments
        replication.factor = 3
        sync.topic.acls.enabled = false
        tasks.max = 4
        """)
        XCTAssertEqual(configuration.flows.map(\.name), ["east->central", "west->central"])
        let east = configuration.flows[0], west = configuration.flows[1]
        XCTAssertTrue(east.topics.matches("orders-eu"))
        XCTAssertFalse(east.topics.matches("payments"))
        XCTAssertTrue(west.topics.matches("payments"))
        XCTAssertFalse(west.topics.matches("orders"))
        XCTAssertEqual(east.replicationFactor, 3)
        XCTAssertEqual(east.consumer["fetch.max.bytes"], "1000")
        XCTAssertEqual(east.producer["linger.ms"], "7")
        XCTAssertNil(west.consumer["fetch.max.bytes"])
        XCTAssertEqual(east.refreshTopicsInterval, .seconds(10), "Strait's default, not MM2's 600 s")
        XCTAssertEqual(configuration.clusters["east"]?.client.bootstrapServers.map(\.description), ["e1:9092", "e2:9093"])
        XCTAssertEqual(configuration.ignoredKeys, ["tasks.max"])
        XCTAssertEqual(east.offsetsTopic, "mm2-offsets.east.internal")
    }

    func testTopicSelectionFollowsMM2() throws {
        let flow = try MirrorConfiguration(parsing: """
        clusters = A, B
        A.bootstrap.servers = a:1
        B.bootstrap.servers = b:1
        A->B.enabled = true
        """).flows[0]
        for topic in ["orders", "C.orders", "heartbeats", "C.heartbeats"] { XCTAssertTrue(flow.replicates(topic), topic) }
        for topic in ["__consumer_offsets", "__transaction_state", "mm2-offsets.A.internal", "A.checkpoints.internal",
                      "connect-configs-internal", "orders.replica", "B.orders", "C.B.orders", "B.heartbeats", ".hidden"] {
            XCTAssertFalse(flow.replicates(topic), topic)
        }
    }

    func testErrorsNameTheKeyAndLine() {
        func error(_ text: String) -> String {
            do {
                _ = try MirrorConfiguration(parsing: text)
                return "no error"
            } catch {
                return error.description
            }
        }
        let base = "clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\n"
        XCTAssertEqual(error(base + "A->B.enabled = true\nA->B.refresh.topics.interval.seconds = 0\n"),
                       "line 5: A->B.refresh.topics.interval.seconds: '0' is not a whole number of at least 1")
        XCTAssertEqual(error(base + "whatever = 1\n"), "line 4: whatever: unknown MirrorMaker 2 setting")
        XCTAssertEqual(error(base + "A->B.enabled = true\nA.security.protocol = SASL_PLAINTEXT\n"),
                       "A.sasl.mechanism: GSSAPI is not supported; set PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
        XCTAssertEqual(error(base + "A->B.enabled = true\nsecurity.protocol = SASL_PLAINTEXT\nsasl.mechanism = OAUTHBEARER\n"),
                       "A.sasl.mechanism: OAUTHBEARER is not supported yet; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
        XCTAssertEqual(error(base + "A->B.enabled = true\nA.security.protocol = TLS\n"),
                       "A.security.protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got 'TLS'")
        XCTAssertEqual(error(base + "A->B.enabled = true\nA.consumer.security.protocol = SSL\nA.producer.security.protocol = PLAINTEXT\n"),
                           "A.producer.security.protocol: the consumer, producer and admin of one cluster share connections, so their security.protocol must agree")
        XCTAssertEqual(error(base + "A.whatever = 1\n"), "line 4: A.whatever: unknown cluster setting")
        XCTAssertEqual(error(base + "A->A.enabled = true\n"), "line 4: A->A.enabled: a flow needs two different clusters")
        XCTAssertEqual(error(base + "A->B.enabled = true\nA->B.offset-syncs.topic.location = nowhere\n"),
                       "line 5: A->B.offset-syncs.topic.location: 'nowhere' is not one of source, target")
        XCTAssertEqual(error(base + "topic.filter.class = com.example.Filter\n"),
                       "line 4: topic.filter.class: 'com.example.Filter' is not supported: Strait implements org.apache.kafka.connect.mirror.DefaultTopicFilter only")
        XCTAssertEqual(error(base + "A->B.enabled = true\nreplication.policy.class = io.strait.mirror.TemplateReplicationPolicy\nreplication.policy.template = {topic}\n"),
                       "replication.policy.template: '{topic}' must hold {source} and {topic} once each")
    }

    func testPolicies() throws {
        let standard = DefaultReplicationPolicy()
        XCTAssertEqual(standard.formatRemoteTopic(sourceAlias: "us", topic: "eu.orders"), "us.eu.orders")
        XCTAssertEqual(standard.topicSource("us.eu.orders"), "us")
        XCTAssertEqual(standard.upstreamTopic("us.eu.orders"), "eu.orders")
        XCTAssertEqual(standard.originalTopic("us.eu.orders"), "orders")
        XCTAssertTrue(standard.isCycle("us.eu.orders", target: "eu"))
        XCTAssertFalse(standard.isCycle("us.eu.orders", target: "ap"))
        XCTAssertEqual(standard.checkpointsTopic("us"), "us.checkpoints.internal")
        XCTAssertEqual(standard.offsetSyncsTopic("eu"), "mm2-offset-syncs.eu.internal")
        let dashed = DefaultReplicationPolicy(separator: "_", separatorInInternalTopics: false)
        XCTAssertEqual(dashed.formatRemoteTopic(sourceAlias: "us", topic: "t"), "us_t")
        XCTAssertEqual(dashed.checkpointsTopic("us"), "us.checkpoints.internal")

        let identity = IdentityReplicationPolicy()
        XCTAssertEqual(identity.formatRemoteTopic(sourceAlias: "us", topic: "orders"), "orders")
        XCTAssertNil(identity.topicSource("us.orders"))
        XCTAssertEqual(identity.formatRemoteTopic(sourceAlias: "us", topic: "heartbeats"), "us.heartbeats")
        XCTAssertEqual(identity.topicSource("us.heartbeats"), "us")

        let template = try TemplateReplicationPolicy(template: "{topic}-from-{source}", aliases: ["dc-1", "dc"])
        XCTAssertEqual(template.formatRemoteTopic(sourceAlias: "dc-1", topic: "a-b"), "a-b-from-dc-1")
        XCTAssertEqual(template.topicSource("a-b-from-dc-1"), "dc-1")
        XCTAssertEqual(template.upstreamTopic("a-b-from-dc-1"), "a-b")
        XCTAssertNil(template.topicSource("a-b-from-elsewhere"))
        XCTAssertTrue(template.isCycle("x-from-dc-from-dc-1", target: "dc"))
    }

    func testSourceOffsetRecordsMatchConnectsLayout() throws {
        let record = SourceOffsetRecord(cluster: "east", topic: "orders", partition: 3, offset: 41)
        XCTAssertEqual(record.key, #"["MirrorSourceConnector",{"cluster":"east","partition":3,"topic":"orders"}]"#)
        XCTAssertEqual(record.value, #"{"offset":41}"#)
        let parsed = SourceOffsetRecord(key: Array(record.key.utf8), value: Array(#"{ "offset" : 41 }"#.utf8))
        XCTAssertEqual(parsed, record)
        XCTAssertEqual(SourceOffsetRecord(key: Array(record.key.utf8), value: nil)?.offset, .some(nil), "a tombstone")
        XCTAssertNil(SourceOffsetRecord(key: Array(#"["MirrorCheckpointConnector",{}]"#.utf8), value: nil))
    }
}

final class ShippedConfigurationTests: XCTestCase {
    /// Every example in `configs/` is a valid configuration with at least one flow.
    func testExamplesParse() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs").standardized
        // server.properties is a broker's file; secured-replication.properties names certificate and
        // secret files that Tests/Daemon/test_examples.py creates before checking it.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".properties") && !["server.properties", "secured-replication.properties"].contains($0) }
        XCTAssertGreaterThanOrEqual(files.count, 5)
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let configuration = try MirrorConfiguration(parsing: text)
            XCTAssertFalse(configuration.flows.isEmpty, file)
        }
        let embedded = try MirrorConfiguration(parsing: try String(contentsOf: directory.appendingPathComponent("embedded.properties"), encoding: .utf8))
        XCTAssertEqual(embedded.clusters["east"]?.embeddedDataDirectory, "./strait-data/east")
    }

    func testSecuritySettingsReachTheClusterClientAndSecretsComeFromProviders() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-providers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secrets = directory.appendingPathComponent("secrets.properties").path
        try "a.password = s3cret-from-file\n".write(toFile: secrets, atomically: true, encoding: .utf8)
        let text = """
            clusters = A, B
            A.bootstrap.servers = a:1
            B.bootstrap.servers = b:1
            A->B.enabled = true
            config.providers = file
            config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider
            A.security.protocol = SASL_PLAINTEXT
            A.sasl.mechanism = SCRAM-SHA-512
            A.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="mirror" password="${file:\(secrets):a.password}";
            """
        let configuration = try MirrorConfiguration(parsing: text)
        let security = try XCTUnwrap(configuration.clusters["A"]?.client.security)
        XCTAssertEqual(security.securityProtocol, .saslPlaintext)
        XCTAssertEqual(security.sasl, SaslCredentials(mechanism: .scram(.sha512), user: "mirror", password: "s3cret-from-file"))
        XCTAssertFalse(security.description.contains("s3cret"))
        XCTAssertEqual(configuration.clusters["B"]?.client.security.securityProtocol, .plaintext)

        let missing = text.replacingOccurrences(of: "a.password}", with: "b.password}")
        XCTAssertThrowsError(try MirrorConfiguration(parsing: missing)) { error in
            XCTAssertEqual("\(error)", "line 9: A.sasl.jaas.config: ${file:\(secrets):b.password}: \(secrets) has no key b.password")
        }
    }
}

final class AclSynchronizerTests: XCTestCase {
    func testMM2RulesForTopicAcls() {
        func acl(_ name: String, _ operation: AclOperation, _ permission: AclBinding.Permission = .allow,
                 _ pattern: AclBinding.PatternType = .literal, _ type: AclResourceType = .topic) -> AclBinding {
            AclBinding(resourceType: type, resourceName: name, patternType: pattern, principal: "User:a", host: "*", operation: operation, permission: permission)
        }
        let source = [acl("orders", .read), acl("orders", .all), acl("orders", .write), acl("orders", .write, .deny),
                      acl("ord", .read, .allow, .prefixed), acl("orders", .read, .allow, .literal, .group), acl("other", .read)]
        XCTAssertEqual(AclSynchronizer.remoteBindings(source, remoteNames: ["orders": "A.orders"]),
                       [acl("A.orders", .read), acl("A.orders", .write, .deny)])
    }
}
