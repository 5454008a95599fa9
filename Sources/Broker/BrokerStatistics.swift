/// A running broker's size, for the daemon's status and its gauges.
public struct BrokerStatistics: Sendable, Equatable {
    public var topics: Int
    public var partitions: Int
    /// Bytes of every partition's segments on disk.
    public var logBytes: Int64
    public var groups: Int
    public var connections: Int
}
