/// A topic partition as a dictionary key (committed offsets).
struct TopicPartition: Hashable, Sendable, Comparable {
    var topic: String
    var partition: Int32

    static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}
