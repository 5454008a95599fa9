/// A committed offset with what OffsetCommit stored beside it.
struct CommittedOffset: Equatable, Sendable {
    var offset: Int64
    var leaderEpoch: Int32
    var metadata: String?
    var commitTimestampMs: Int64
}
