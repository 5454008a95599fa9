import KafkaSecurity

/// Turns the wire codes of a DescribeAcls or DeleteAcls filter into an `AclBindingFilter`, or
/// nil when a code is unknown.
enum AclFilterCodes {
    static func filter(resourceType: Int8, name: String?, pattern: Int8, principal: String?, host: String?,
                       operation: Int8, permission: Int8) -> AclBindingFilter? {
        guard let type = AclResourceType(rawValue: resourceType), let patternType = AclBinding.PatternType(rawValue: pattern),
              let operation = AclOperation(rawValue: operation), let permission = AclBinding.Permission(rawValue: permission) else { return nil }
        return AclBindingFilter(resourceType: type, resourceName: name, patternType: patternType, principal: principal, host: host,
                                operation: operation, permission: permission)
    }
}
