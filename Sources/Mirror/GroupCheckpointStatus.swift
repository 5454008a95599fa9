/// The last checkpoint written for one consumer group, as the status API shows it.
public struct GroupCheckpointStatus: Sendable, Equatable {
    public var group: String
    /// When it was written, in milliseconds since the epoch.
    public var timeMs: Int64
    /// How many of the group's partitions that checkpoint round covered.
    public var partitions: Int
}
