import KafkaSecurity
import KafkaProtocol

/// 29 DescribeAcls: the ACLs a filter selects, grouped by resource pattern. Needs DESCRIBE on
/// the cluster; without an authorizer Kafka answers SECURITY_DISABLED.
struct DescribeAclsHandler: ApiHandler {
    func handle(_ request: DescribeAclsRequest, context: RequestContext) async -> DescribeAclsResponse {
        guard let authorizer = context.authorizer else {
            return DescribeAclsResponse(errorCode: ErrorCode.securityDisabled.rawValue, errorMessage: "No Authorizer is configured.")
        }
        guard context.allowsCluster(.describe) else {
            return DescribeAclsResponse(errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
        }
        guard let filter = AclFilterCodes.filter(resourceType: request.resourceTypeFilter, name: request.resourceNameFilter,
                                                 pattern: request.patternTypeFilter, principal: request.principalFilter, host: request.hostFilter,
                                                 operation: request.operation, permission: request.permissionType) else {
            return DescribeAclsResponse(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: "Invalid filter")
        }
        var resources: [DescribeAclsResponse.DescribeAclsResource] = []
        for binding in authorizer.store.all where filter.matches(binding) {
            let entry = DescribeAclsResponse.AclDescription(principal: binding.principal, host: binding.host,
                                                            operation: binding.operation.rawValue, permissionType: binding.permission.rawValue)
            if let index = resources.firstIndex(where: { $0.resourceType == binding.resourceType.rawValue && $0.resourceName == binding.resourceName &&
                $0.patternType == binding.patternType.rawValue }) {
                resources[index].acls.append(entry)
            } else {
                resources.append(.init(resourceType: binding.resourceType.rawValue, resourceName: binding.resourceName,
                                       patternType: binding.patternType.rawValue, acls: [entry]))
            }
        }
        return DescribeAclsResponse(errorCode: 0, errorMessage: nil, resources: resources)
    }
}
