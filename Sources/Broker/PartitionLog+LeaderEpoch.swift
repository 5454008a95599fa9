import KafkaProtocol
import LogStore

extension PartitionLog {
    /// KIP-320: a client names the leader epoch it believes current; an older one is fenced, a
    /// newer one is unknown to this broker. -1 means the client does not check.
    func leaderEpochError(clientEpoch: Int32) -> ErrorCode? {
        guard clientEpoch >= 0, clientEpoch != leaderEpoch else { return nil }
        return clientEpoch < leaderEpoch ? .fencedLeaderEpoch : .unknownLeaderEpoch
    }
}
