import KafkaSecurity

/// Kafka's ACL authorizer (AclAuthorizer, StandardAuthorizer): super users may do anything;
/// otherwise a DENY that applies wins, then an ALLOW that applies (directly or by an implied
/// operation); a resource no ACL mentions at all is open only with
/// `allow.everyone.if.no.acl.found`.
public struct Authorizer: Sendable {
    public let store: AclStore
    public let superUsers: Set<String>
    public let allowEveryoneIfNoAclFound: Bool

    public static let classNames: Set<String> = [
        "kafka.security.authorizer.AclAuthorizer", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    ]

    public init(store: AclStore, superUsers: Set<String>, allowEveryoneIfNoAclFound: Bool) {
        self.store = store
        self.superUsers = superUsers
        self.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound
    }

    /// `super.users`: principals separated by semicolons, as Kafka reads it.
    static func superUsers(_ text: String?) -> Set<String> {
        Set((text ?? "").split(separator: ";").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty })
    }

    public func authorize(principal: String, host: String, operation: AclOperation, resourceType: AclResourceType, name: String) -> Bool {
        if superUsers.contains(principal) { return true }
        let covering = store.all.filter { $0.covers(resourceType, name) }
        if covering.isEmpty { return allowEveryoneIfNoAclFound }
        let applying = covering.filter { entry in
            (entry.principal == principal || entry.principal == "User:*") && (entry.host == "*" || entry.host == host)
        }
        if applying.contains(where: { $0.permission == .deny && ($0.operation == .all || $0.operation == operation) }) { return false }
        return applying.contains { $0.permission == .allow && $0.operation.allows(operation) }
    }

    /// Whether the principal may do `operation` on at least one resource of the type (Kafka's
    /// `authorizeByResourceType`, which lets an idempotent producer in with WRITE on any topic).
    public func authorizeAny(principal: String, host: String, operation: AclOperation, resourceType: AclResourceType) -> Bool {
        if superUsers.contains(principal) { return true }
        let entries = store.all.filter { $0.resourceType == resourceType && ($0.principal == principal || $0.principal == "User:*") &&
            ($0.host == "*" || $0.host == host) }
        if entries.contains(where: { $0.permission == .deny && $0.patternType == .literal && $0.resourceName == "*" &&
            ($0.operation == .all || $0.operation == operation) }) { return false }
        if entries.contains(where: { $0.permission == .allow && $0.operation.allows(operation) }) { return true }
        return allowEveryoneIfNoAclFound && entries.isEmpty
    }
}
