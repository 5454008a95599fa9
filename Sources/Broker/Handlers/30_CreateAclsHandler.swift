import KafkaSecurity
import KafkaProtocol

/// 30 CreateAcls: stores each valid ACL durably before answering. Needs ALTER on the cluster.
struct CreateAclsHandler: ApiHandler {
    func handle(_ request: CreateAclsRequest, context: RequestContext) async -> CreateAclsResponse {
        guard let authorizer = context.authorizer else {
            return CreateAclsResponse(results: request.creations.map { _ in
                .init(errorCode: ErrorCode.securityDisabled.rawValue, errorMessage: "No Authorizer is configured.")
            })
        }
        guard context.allowsCluster(.alter) else {
            return CreateAclsResponse(results: request.creations.map { _ in
                .init(errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
            })
        }
        var results: [CreateAclsResponse.AclCreationResult] = []
        var valid: [AclBinding] = []
        for creation in request.creations {
            guard let type = AclResourceType(rawValue: creation.resourceType), let pattern = AclBinding.PatternType(rawValue: creation.resourcePatternType),
                  let operation = AclOperation(rawValue: creation.operation), let permission = AclBinding.Permission(rawValue: creation.permissionType) else {
                results.append(.init(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: "Unknown resource type, pattern type, operation or permission"))
                continue
            }
            let binding = AclBinding(resourceType: type, resourceName: creation.resourceName, patternType: pattern, principal: creation.principal,
                                     host: creation.host, operation: operation, permission: permission)
            if let problem = binding.problem {
                results.append(.init(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: problem))
            } else {
                valid.append(binding)
                results.append(.init(errorCode: 0, errorMessage: nil))
            }
        }
        do {
            try authorizer.store.add(valid)
        } catch {
            return CreateAclsResponse(results: results.map { result in
                result.errorCode != 0 ? result : .init(errorCode: error.code.rawValue, errorMessage: error.message)
            })
        }
        return CreateAclsResponse(results: results)
    }
}
