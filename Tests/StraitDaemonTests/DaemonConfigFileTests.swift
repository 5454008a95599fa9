import Mirror
import XCTest

@testable import StraitDaemon

final class DaemonConfigFileTests: XCTestCase {
    /// The YAML file is read into MirrorMaker 2's settings: a flow says the same in both formats.
    func testAFlowMeansTheSameAsItsMM2Equivalent() throws {
        let yaml = """
            sites:
              east:
                listen: 0.0.0.0:9092
                data.dir: /var/lib/strait/east
                broker:
                  num.partitions: 3
              central:
                bootstrap.servers: [k1:9092, k2:9093]
                client:
                  request.timeout.ms: 5000
                  consumer.fetch.max.bytes: 1048576
            flows:
              - source: east
                target: central
                topics: [orders, "payments\\\\..*"]
                topics.exclude: .*\\.tmp
                replication.policy.class: IdentityReplicationPolicy
                emit.checkpoints.interval.seconds: 7
                sync.group.offsets.enabled: true
            """
        let mm2 = """
            clusters = east, central
            east.bootstrap.servers = 127.0.0.1:9092
            east.embedded.data.dir = /var/lib/strait/east
            central.bootstrap.servers = k1:9092, k2:9093
            central.request.timeout.ms = 5000
            central.consumer.fetch.max.bytes = 1048576
            east->central.enabled = true
            east->central.topics = orders, payments\\\\..*
            east->central.topics.exclude = .*\\\\.tmp
            east->central.replication.policy.class = IdentityReplicationPolicy
            east->central.emit.checkpoints.interval.seconds = 7
            east->central.sync.group.offsets.enabled = true
            """
        let plan = try DaemonConfigFile.parse(yaml, file: "strait.yaml")
        let expected = try MirrorConfiguration(parsing: mm2)
        XCTAssertEqual(plan.mirror.flows.count, 1)
        let (flow, wanted) = (plan.mirror.flows[0], expected.flows[0])
        XCTAssertEqual(flow.name, wanted.name)
        XCTAssertEqual(flow.topics.include, wanted.topics.include)
        XCTAssertEqual(flow.topics.exclude, wanted.topics.exclude)
        XCTAssertEqual(flow.topics.include, ["orders", #"payments\..*"#])
        XCTAssertEqual(flow.emitCheckpointsInterval, wanted.emitCheckpointsInterval)
        XCTAssertTrue(flow.syncGroupOffsets)
        XCTAssertTrue(flow.policy is IdentityReplicationPolicy)
        XCTAssertEqual(flow.consumer, wanted.consumer)
        XCTAssertEqual(plan.mirror.clusters["central"]?.client.bootstrapServers, expected.clusters["central"]?.client.bootstrapServers)
        XCTAssertEqual(plan.mirror.clusters["central"]?.client.requestTimeout, .milliseconds(5000))
        // The flow reaches an embedded site on a wildcard address through loopback.
        XCTAssertEqual(plan.mirror.clusters["east"]?.client.bootstrapServers.first?.description, "127.0.0.1:9092")
        XCTAssertEqual(plan.sites.map(\.name), ["east"])
        XCTAssertEqual(plan.sites[0].broker.listenHost, "0.0.0.0")
        XCTAssertEqual(plan.sites[0].broker.properties, ["num.partitions": "3"])
        XCTAssertEqual(plan.http?.port, 9464)
        XCTAssertEqual(plan.http?.host, "127.0.0.1")
    }

    func testAnExternalSiteWithEmbeddedKeysIsRefused() {
        let yaml = """
            sites:
              west:
                bootstrap.servers: k1:9092
                data.dir: /tmp/x
            """
        XCTAssertThrowsError(try DaemonConfigFile.parse(yaml, file: "f.yaml")) { error in
            XCTAssertEqual("\(error)", "f.yaml:4: sites.west.data.dir: an external site (bootstrap.servers) has no data.dir: that belongs to an embedded site")
        }
    }

    func testTwoSitesInOneDirectoryAreRefused() {
        let yaml = """
            sites:
              a:
                listen: 127.0.0.1:1
                data.dir: /tmp/same
              b:
                listen: 127.0.0.1:2
                data.dir: /tmp/same
            """
        XCTAssertThrowsError(try DaemonConfigFile.parse(yaml, file: "f.yaml")) { error in
            XCTAssertEqual("\(error)", "f.yaml:7: sites.b.data.dir: /tmp/same is also the data directory of site a")
        }
    }
}
