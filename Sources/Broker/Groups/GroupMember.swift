import KafkaProtocol
import NIOCore

/// One member of a classic group, with the JoinGroup or SyncGroup request it has parked while
/// the group rebalances.
struct GroupMember {
    var memberId: String
    /// KIP-345 static membership: the id the member keeps across restarts.
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int32
    var rebalanceTimeoutMs: Int32
    var protocols: [(name: String, metadata: ByteBuffer)]
    var assignment = ByteBuffer()
    var lastHeartbeatMs: Int64
    var joinWaiter: CheckedContinuation<JoinGroupResponse, Never>?
    var joinVersion: Int16 = 0
    var syncWaiter: CheckedContinuation<SyncGroupResponse, Never>?

    func metadata(for protocolName: String) -> ByteBuffer {
        protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
    }

    func sameProtocols(as others: [(name: String, metadata: ByteBuffer)]) -> Bool {
        protocols.count == others.count && zip(protocols, others).allSatisfy { $0.name == $1.name && $0.metadata == $1.metadata }
    }
}
