import KafkaProtocol
import KafkaSecurity

/// 16 ListGroups, with the v4 state filter.
struct ListGroupsHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: ListGroupsRequest, context: RequestContext) async -> ListGroupsResponse {
        // DESCRIBE on the cluster lists every group; otherwise only the groups one may describe.
        let everything = context.allowsCluster(.describe)
        return ListGroupsResponse(groups: await groups.listGroups(states: request.statesFilter).filter {
            everything || context.allows(.describe, .group, $0.groupId)
        }.map {
            .init(groupId: $0.groupId, protocolType: $0.protocolType, groupState: $0.state)
        })
    }
}
