import KafkaProtocol

/// 16 ListGroups, with the v4 state filter.
struct ListGroupsHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: ListGroupsRequest, context: RequestContext) async -> ListGroupsResponse {
        ListGroupsResponse(groups: await groups.listGroups(states: request.statesFilter).map {
            .init(groupId: $0.groupId, protocolType: $0.protocolType, groupState: $0.state)
        })
    }
}
