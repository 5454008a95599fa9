import KafkaProtocol

/// 12 Heartbeat: keeps a member's session alive and tells it when to rejoin.
struct HeartbeatHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: HeartbeatRequest, context: RequestContext) async -> HeartbeatResponse {
        await groups.heartbeat(request)
    }
}
