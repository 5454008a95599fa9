import KafkaProtocol
import KafkaSecurity
import NIOCore

/// 15 DescribeGroups: state, protocol and members with their subscriptions and assignments.
/// An unknown group is described as Dead with no error, as Kafka does.
struct DescribeGroupsHandler: ApiHandler {
    let groups: GroupCoordinator

    func handle(_ request: DescribeGroupsRequest, context: RequestContext) async -> DescribeGroupsResponse {
        var described: [DescribeGroupsResponse.DescribedGroup] = []
        for groupId in request.groups {
            guard context.allows(.describe, .group, groupId) else {
                described.append(.init(errorCode: ErrorCode.groupAuthorizationFailed.rawValue, groupId: groupId, groupState: "", protocolType: "", protocolData: ""))
                continue
            }
            guard let group = await groups.describe(groupId) else {
                described.append(.init(groupId: groupId, groupState: GroupState.dead.rawValue, protocolType: "", protocolData: ""))
                continue
            }
            let stable = group.state == .stable
            described.append(.init(
                groupId: groupId,
                groupState: group.state.rawValue,
                protocolType: group.protocolType ?? "",
                protocolData: stable ? group.protocolName ?? "" : "",
                members: group.members.values.sorted { $0.memberId < $1.memberId }.map { member in
                    .init(memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId, clientHost: member.clientHost,
                          memberMetadata: stable ? member.metadata(for: group.protocolName ?? "") : ByteBuffer(),
                          memberAssignment: stable ? member.assignment : ByteBuffer())
                }
            ))
        }
        return DescribeGroupsResponse(groups: described)
    }
}
