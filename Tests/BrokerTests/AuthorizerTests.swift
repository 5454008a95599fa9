@testable import Broker
import Foundation
import KafkaSecurity
import XCTest

/// Kafka's authorizer rules, below the wire: patterns, deny over allow, implied operations,
/// super users, the no-ACL default, and durability of the store.
final class AuthorizerTests: XCTestCase {
    private var directory = ""

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-acl-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func acl(_ type: AclResourceType, _ name: String, _ operation: AclOperation, _ permission: AclBinding.Permission = .allow,
                     pattern: AclBinding.PatternType = .literal, principal: String = "User:alice", host: String = "*") -> AclBinding {
        AclBinding(resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: host, operation: operation, permission: permission)
    }

    func testPatternsDenyImpliedOperationsAndSuperUsers() throws {
        let store = try AclStore(dataDirectory: directory)
        try store.add([acl(.topic, "orders", .write, pattern: .prefixed), acl(.topic, "orders-secret", .read, .deny),
                       acl(.topic, "*", .describe, principal: "User:*"), acl(.group, "billing", .read),
                       acl(.topic, "pinned", .read, host: "10.0.0.1")])
        let authorizer = Authorizer(store: store, superUsers: Authorizer.superUsers("User:admin; User:ops"), allowEveryoneIfNoAclFound: false)
        func allows(as principal: String = "User:alice", _ operation: AclOperation, _ type: AclResourceType, _ name: String, host: String = "127.0.0.1") -> Bool {
            authorizer.authorize(principal: principal, host: host, operation: operation, resourceType: type, name: name)
        }
        XCTAssertTrue(allows(.write, .topic, "orders-eu"), "prefixed pattern")
        XCTAssertFalse(allows(.read, .topic, "orders-eu"), "WRITE does not imply READ")
        XCTAssertTrue(allows(.describe, .topic, "orders-eu"), "WRITE implies DESCRIBE")
        XCTAssertFalse(allows(.read, .topic, "orders-secret"), "deny wins")
        XCTAssertTrue(allows(as: "User:bob", .describe, .topic, "anything"), "wildcard principal and literal *")
        XCTAssertFalse(allows(as: "User:bob", .write, .topic, "anything"))
        XCTAssertTrue(allows(.read, .group, "billing"))
        XCTAssertFalse(allows(.read, .group, "other"), "no ACL on the resource and allow.everyone.if.no.acl.found=false")
        XCTAssertFalse(allows(.read, .topic, "pinned"), "host must match")
        XCTAssertTrue(allows(.read, .topic, "pinned", host: "10.0.0.1"))
        XCTAssertTrue(allows(as: "User:ops", .clusterAction, .cluster, AclResourceType.clusterName), "super user")
        XCTAssertFalse(allows(.clusterAction, .cluster, AclResourceType.clusterName))
        XCTAssertTrue(authorizer.authorizeAny(principal: "User:alice", host: "127.0.0.1", operation: .write, resourceType: .topic))
        XCTAssertFalse(authorizer.authorizeAny(principal: "User:bob", host: "127.0.0.1", operation: .write, resourceType: .topic))

        let open = Authorizer(store: store, superUsers: [], allowEveryoneIfNoAclFound: true)
        XCTAssertTrue(open.authorize(principal: "User:bob", host: "h", operation: .read, resourceType: .group, name: "other"))
        XCTAssertFalse(open.authorize(principal: "User:bob", host: "h", operation: .read, resourceType: .group, name: "billing"))
    }

    func testTheStoreSurvivesReopeningAndFiltersSelectWhatTheySay() throws {
        let store = try AclStore(dataDirectory: directory)
        let bindings = [acl(.topic, "a b,c", .read), acl(.group, "g", .delete, .deny, pattern: .prefixed), acl(.transactionalId, "tx", .write)]
        try store.add(bindings + [bindings[0]])
        XCTAssertEqual(try AclStore(dataDirectory: directory).all, bindings, "reloaded, duplicates not stored")
        XCTAssertEqual(store.all.filter(AclBindingFilter(resourceType: .group).matches), [bindings[1]])
        XCTAssertEqual(store.all.filter(AclBindingFilter(resourceName: "gx", patternType: .match).matches), [bindings[1]])
        let removed = try store.remove(matching: [AclBindingFilter(operation: .write), AclBindingFilter(operation: .write)])
        XCTAssertEqual(removed, [[bindings[2]], []])
        XCTAssertEqual(try AclStore(dataDirectory: directory).all, Array(bindings.prefix(2)))
        XCTAssertEqual(acl(.cluster, "other", .alter).problem, "The only valid name for the CLUSTER resource is kafka-cluster")
        XCTAssertNotNil(acl(.topic, "t", .read, principal: "alice").problem)
    }
}
