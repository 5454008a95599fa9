/// The states of a classic consumer group, with the names Kafka reports (ListGroups,
/// DescribeGroups).
enum GroupState: String, Sendable {
    /// No members; committed offsets may remain.
    case empty = "Empty"
    /// Members are (re)joining; JoinGroup requests are parked until all have joined.
    case preparingRebalance = "PreparingRebalance"
    /// Join answered; waiting for the leader's SyncGroup with the assignment.
    case completingRebalance = "CompletingRebalance"
    /// Assignment distributed; members heartbeat.
    case stable = "Stable"
    /// Deleted.
    case dead = "Dead"
}
