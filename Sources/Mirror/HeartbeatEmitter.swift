import KafkaClient
import KafkaProtocol

/// Writes MM2's heartbeat of a flow (`source`, `target`, now) to the target's `heartbeats`
/// topic. Flows out of the target copy that topic on like any other, so each cluster ends up
/// holding the heartbeats of every flow upstream of it: what `strait topology` reads.
final class HeartbeatEmitter: Sendable {
    private let flow: FlowSettings
    private let topic: InternalTopic

    init(flow: FlowSettings, target: KafkaCluster) {
        self.flow = flow
        topic = InternalTopic(cluster: target, name: flow.policy.heartbeatsTopic)
    }

    func ensureTopic() async throws(KafkaClientError) {
        try await topic.ensure(partitions: 1, replicationFactor: flow.heartbeatsReplicationFactor)
    }

    func beat() async throws(KafkaClientError) {
        let heartbeat = Heartbeat(sourceClusterAlias: flow.source, targetClusterAlias: flow.target, timestamp: WallClock.nowMs())
        try await topic.write([(0, heartbeat.key, heartbeat.value)])
    }

    func close() async {
        await topic.close()
    }
}
