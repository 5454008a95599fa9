import KafkaSecurity
import KafkaProtocol

/// 31 DeleteAcls: removes what each filter matches, durably, and reports the removed ACLs.
/// Needs ALTER on the cluster.
struct DeleteAclsHandler: ApiHandler {
    func handle(_ request: DeleteAclsRequest, context: RequestContext) async -> DeleteAclsResponse {
        func failure(_ code: ErrorCode, _ message: String) -> DeleteAclsResponse {
            DeleteAclsResponse(filterResults: request.filters.map { _ in .init(errorCode: code.rawValue, errorMessage: message) })
        }
        guard let authorizer = context.authorizer else { return failure(.securityDisabled, "No Authorizer is configured.") }
        guard context.allowsCluster(.alter) else { return failure(.clusterAuthorizationFailed, "Cluster authorization failed.") }
        var filters: [AclBindingFilter] = []
        for filter in request.filters {
            guard let parsed = AclFilterCodes.filter(resourceType: filter.resourceTypeFilter, name: filter.resourceNameFilter,
                                                     pattern: filter.patternTypeFilter, principal: filter.principalFilter, host: filter.hostFilter,
                                                     operation: filter.operation, permission: filter.permissionType) else {
                return failure(.invalidRequest, "Invalid filter")
            }
            filters.append(parsed)
        }
        let removed: [[AclBinding]]
        do {
            removed = try authorizer.store.remove(matching: filters)
        } catch {
            return failure(error.code, error.message ?? "cannot store ACLs")
        }
        return DeleteAclsResponse(filterResults: removed.map { bindings in
            .init(errorCode: 0, errorMessage: nil, matchingAcls: bindings.map { binding in
                .init(errorCode: 0, errorMessage: nil, resourceType: binding.resourceType.rawValue, resourceName: binding.resourceName,
                      patternType: binding.patternType.rawValue, principal: binding.principal, host: binding.host,
                      operation: binding.operation.rawValue, permissionType: binding.permission.rawValue)
            })
        })
    }
}
