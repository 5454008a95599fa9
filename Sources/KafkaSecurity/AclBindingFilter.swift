/// What DescribeAcls and DeleteAcls select: each field a value or "any" (nil, ANY); MATCH
/// pattern type selects every ACL whose pattern applies to the given name.
public struct AclBindingFilter: Sendable {
    public var resourceType: AclResourceType
    public var resourceName: String?
    public var patternType: AclBinding.PatternType
    public var principal: String?
    public var host: String?
    public var operation: AclOperation
    public var permission: AclBinding.Permission

    public init(resourceType: AclResourceType = .any, resourceName: String? = nil, patternType: AclBinding.PatternType = .any,
                principal: String? = nil, host: String? = nil, operation: AclOperation = .any, permission: AclBinding.Permission = .any) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    public func matches(_ binding: AclBinding) -> Bool {
        if resourceType != .any && binding.resourceType != resourceType { return false }
        if let principal, binding.principal != principal { return false }
        if let host, binding.host != host { return false }
        if operation != .any && binding.operation != operation { return false }
        if permission != .any && binding.permission != permission { return false }
        switch patternType {
        case .any:
            return resourceName.map { binding.resourceName == $0 } ?? true
        case .match:
            guard let resourceName else { return true }
            return binding.covers(binding.resourceType, resourceName)
        case .literal, .prefixed:
            return binding.patternType == patternType && (resourceName.map { binding.resourceName == $0 } ?? true)
        }
    }
}
