/// One ACL: a resource pattern (type, name, literal or prefixed) and an entry (principal, host,
/// operation, allow or deny). Wire codes are Kafka's.
public struct AclBinding: Sendable, Hashable {
    public enum PatternType: Int8, Sendable {
        /// Filters only: any pattern type, or every pattern that matches a name.
        case any = 1
        case match = 2
        case literal = 3
        case prefixed = 4

        public var name: String {
            switch self {
            case .any: return "ANY"
            case .match: return "MATCH"
            case .literal: return "LITERAL"
            case .prefixed: return "PREFIXED"
            }
        }
    }

    public enum Permission: Int8, Sendable {
        /// Filters only.
        case any = 1
        case deny = 2
        case allow = 3

        public var name: String {
            switch self {
            case .any: return "ANY"
            case .deny: return "DENY"
            case .allow: return "ALLOW"
            }
        }
    }

    public var resourceType: AclResourceType
    public var resourceName: String
    public var patternType: PatternType
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: Permission

    public init(resourceType: AclResourceType, resourceName: String, patternType: PatternType, principal: String, host: String,
                operation: AclOperation, permission: Permission) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// Whether this ACL's pattern covers the resource `name` (`*` as a literal name covers all).
    public func covers(_ type: AclResourceType, _ name: String) -> Bool {
        guard resourceType == type else { return false }
        switch patternType {
        case .literal: return resourceName == name || resourceName == "*"
        case .prefixed: return name.hasPrefix(resourceName)
        case .any, .match: return false
        }
    }

    /// Why this binding cannot be stored, in Kafka's words, or nil.
    public var problem: String? {
        if resourceType == .any { return "Invalid resource type ANY" }
        if patternType != .literal && patternType != .prefixed { return "Invalid pattern type \(patternType.name)" }
        if operation == .any { return "Invalid operation ANY" }
        if permission == .any { return "Invalid permission type ANY" }
        if resourceName.isEmpty { return "Resource name must not be empty" }
        if resourceType == .cluster && resourceName != AclResourceType.clusterName {
            return "The only valid name for the CLUSTER resource is \(AclResourceType.clusterName)"
        }
        guard let colon = principal.firstIndex(of: ":"), colon != principal.startIndex, principal.index(after: colon) != principal.endIndex else {
            return "Invalid principal \(principal): expected TYPE:NAME"
        }
        if host.isEmpty { return "Host must not be empty (use * for any host)" }
        return nil
    }
}
