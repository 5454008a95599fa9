import KafkaProtocol
import KafkaSecurity

/// 42 DeleteGroups: only groups without members (NON_EMPTY_GROUP otherwise).
struct DeleteGroupsHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: DeleteGroupsRequest, context: RequestContext) async -> DeleteGroupsResponse {
        var results: [DeleteGroupsResponse.DeletableGroupResult] = []
        for groupId in request.groupsNames {
            guard context.allows(.delete, .group, groupId) else {
                results.append(.init(groupId: groupId, errorCode: ErrorCode.groupAuthorizationFailed.rawValue))
                continue
            }
            results.append(.init(groupId: groupId, errorCode: await groups.delete(groupId).rawValue))
        }
        return DeleteGroupsResponse(results: results)
    }
}
