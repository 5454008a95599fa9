import KafkaProtocol
import KafkaSecurity

/// ACL administration (DescribeAcls, CreateAcls), as the mirror's ACL sync needs it.
extension KafkaAdmin {
    /// The ACLs a filter selects. A cluster without an authorizer answers SECURITY_DISABLED,
    /// which is thrown like any other error code.
    public func describeAcls(_ filter: AclBindingFilter) async throws(KafkaClientError) -> [AclBinding] {
        let response = try await cluster.anyConnection().send(DescribeAclsRequest(
            resourceTypeFilter: filter.resourceType.rawValue, resourceNameFilter: filter.resourceName, patternTypeFilter: filter.patternType.rawValue,
            principalFilter: filter.principal, hostFilter: filter.host, operation: filter.operation.rawValue, permissionType: filter.permission.rawValue))
        if let error = Self.failure(response.errorCode, response.errorMessage, "DescribeAcls") { throw error }
        var bindings: [AclBinding] = []
        for resource in response.resources {
            guard let type = AclResourceType(rawValue: resource.resourceType), let pattern = AclBinding.PatternType(rawValue: resource.patternType) else { continue }
            for acl in resource.acls {
                guard let operation = AclOperation(rawValue: acl.operation), let permission = AclBinding.Permission(rawValue: acl.permissionType) else { continue }
                bindings.append(AclBinding(resourceType: type, resourceName: resource.resourceName, patternType: pattern, principal: acl.principal,
                                           host: acl.host, operation: operation, permission: permission))
            }
        }
        return bindings
    }

    /// Creates ACLs (existing ones are left as they are).
    public func createAcls(_ bindings: [AclBinding]) async throws(KafkaClientError) {
        guard !bindings.isEmpty else { return }
        let response = try await cluster.anyConnection().send(CreateAclsRequest(creations: bindings.map {
            .init(resourceType: $0.resourceType.rawValue, resourceName: $0.resourceName, resourcePatternType: $0.patternType.rawValue,
                  principal: $0.principal, host: $0.host, operation: $0.operation.rawValue, permissionType: $0.permission.rawValue)
        }))
        for result in response.results {
            if let error = Self.failure(result.errorCode, result.errorMessage, "CreateAcls") { throw error }
        }
    }
}
