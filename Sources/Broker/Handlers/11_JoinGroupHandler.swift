import KafkaProtocol

/// 11 JoinGroup: parks until the group's join phase completes (see `GroupCoordinator`).
struct JoinGroupHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: JoinGroupRequest, context: RequestContext) async -> JoinGroupResponse {
        await groups.join(request, version: context.apiVersion, clientId: context.clientId ?? "", clientHost: context.clientHost)
    }
}
