import KafkaProtocol
import NIOCore

/// Durable group state in the compacted internal topic `__consumer_offsets`, in Kafka's record
/// layouts so that tools reading that topic understand it (big-endian, STRING = INT16 length +
/// UTF-8):
///
/// - offset commit: key v1 = version INT16 (1), group STRING, topic STRING, partition INT32;
///   value v3 = version INT16 (3), offset INT64, leader epoch INT32, metadata STRING,
///   commit timestamp INT64.
/// - group metadata: key v2 = version INT16 (2), group STRING; value v3 = version INT16 (3),
///   protocol type STRING, generation INT32, protocol NULLABLE_STRING, leader NULLABLE_STRING,
///   state timestamp INT64, members INT32 count of (member id STRING, group instance id
///   NULLABLE_STRING, client id STRING, client host STRING, rebalance timeout INT32, session
///   timeout INT32, subscription BYTES, assignment BYTES).
///
/// A null value deletes (offsets removed, group deleted); compaction keeps the latest of each.
struct GroupMetadataLog: Sendable {
    static let topic = "__consumer_offsets"

    let topic: InternalTopic

    /// Creates `__consumer_offsets` on first use (`offsets.topic.num.partitions`, compacted).
    init(registry: TopicRegistry, nowMs: Int64) throws(KafkaError) {
        topic = try InternalTopic(name: Self.topic, registry: registry, partitionsSetting: "offsets.topic.num.partitions",
                                  configs: ["cleanup.policy": "compact", "segment.bytes": "104857600", "compression.type": "producer"], nowMs: nowMs)
    }

    func partition(for groupId: String) -> Int32 {
        topic.partition(for: groupId)
    }

    // MARK: writing

    func writeOffsets(group: String, _ offsets: [(TopicPartition, CommittedOffset?)], nowMs: Int64) throws(KafkaError) {
        let records = offsets.enumerated().map { index, entry -> Record in
            var key = ByteBuffer()
            key.writeInteger(Int16(1))
            key.writeKafkaString(group, compact: false)
            key.writeKafkaString(entry.0.topic, compact: false)
            key.writeInteger(entry.0.partition)
            var value: ByteBuffer?
            if let committed = entry.1 {
                var buffer = ByteBuffer()
                buffer.writeInteger(Int16(3))
                buffer.writeInteger(committed.offset)
                buffer.writeInteger(committed.leaderEpoch)
                buffer.writeKafkaString(committed.metadata ?? "", compact: false)
                buffer.writeInteger(committed.commitTimestampMs)
                value = buffer
            }
            return Record(offsetDelta: Int32(index), key: key, value: value)
        }
        try append(records, group: group, nowMs: nowMs)
    }

    func writeGroup(_ group: ConsumerGroup, deleted: Bool = false, nowMs: Int64) throws(KafkaError) {
        var key = ByteBuffer()
        key.writeInteger(Int16(2))
        key.writeKafkaString(group.groupId, compact: false)
        var value: ByteBuffer?
        if !deleted {
            var buffer = ByteBuffer()
            buffer.writeInteger(Int16(3))
            buffer.writeKafkaString(group.protocolType ?? "", compact: false)
            buffer.writeInteger(group.generationId)
            buffer.writeKafkaString(group.protocolName, compact: false)
            buffer.writeKafkaString(group.leaderId, compact: false)
            buffer.writeInteger(group.stateTimestampMs)
            let members = group.members.values.sorted { $0.memberId < $1.memberId }
            buffer.writeInteger(Int32(members.count))
            for member in members {
                buffer.writeKafkaString(member.memberId, compact: false)
                buffer.writeKafkaString(member.groupInstanceId, compact: false)
                buffer.writeKafkaString(member.clientId, compact: false)
                buffer.writeKafkaString(member.clientHost, compact: false)
                buffer.writeInteger(member.rebalanceTimeoutMs)
                buffer.writeInteger(member.sessionTimeoutMs)
                buffer.writeKafkaBytes(group.protocolName.map { member.metadata(for: $0) } ?? ByteBuffer(), compact: false)
                buffer.writeKafkaBytes(member.assignment, compact: false)
            }
            value = buffer
        }
        try append([Record(offsetDelta: 0, key: key, value: value)], group: group.groupId, nowMs: nowMs)
    }

    private func append(_ records: [Record], group: String, nowMs: Int64) throws(KafkaError) {
        try topic.append(records, forKey: group, nowMs: nowMs)
    }

    // MARK: loading

    /// Replays every partition in offset order into groups.
    func load(nowMs: Int64) throws(KafkaError) -> [String: ConsumerGroup] {
        var groups: [String: ConsumerGroup] = [:]
        try topic.forEachRecord { apply($0, to: &groups, nowMs: nowMs) }
        return groups
    }

    private func apply(_ record: Record, to groups: inout [String: ConsumerGroup], nowMs: Int64) {
        guard var key = record.key, let version = key.readInteger(as: Int16.self) else { return }
        switch version {
        case 0, 1:
            guard let group = try? key.readKafkaString("group", compact: false),
                  let topic = try? key.readKafkaString("topic", compact: false),
                  let partition = key.readInteger(as: Int32.self) else { return }
            let target = TopicPartition(topic: topic, partition: partition)
            guard var value = record.value else {
                groups[group]?.offsets[target] = nil
                return
            }
            guard let valueVersion = value.readInteger(as: Int16.self), let offset = value.readInteger(as: Int64.self) else { return }
            let epoch: Int32 = valueVersion >= 3 ? (value.readInteger(as: Int32.self) ?? -1) : -1
            let metadata = try? value.readKafkaString("metadata", compact: false)
            let timestamp = value.readInteger(as: Int64.self) ?? nowMs
            groups[group, default: ConsumerGroup(groupId: group)].offsets[target] =
                CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestampMs: timestamp)
        case 2:
            guard let groupId = try? key.readKafkaString("group", compact: false) else { return }
            guard var value = record.value else {
                groups[groupId] = nil
                return
            }
            var group = groups[groupId] ?? ConsumerGroup(groupId: groupId)
            guard (try? Self.decodeGroupValue(&value, into: &group, nowMs: nowMs)) != nil else { return }
            groups[groupId] = group
        default:
            return
        }
    }

    private static func decodeGroupValue(_ value: inout ByteBuffer, into group: inout ConsumerGroup, nowMs: Int64) throws(KafkaCodecError) {
        let version: Int16 = try value.readKafkaInteger("version")
        let protocolType = try value.readKafkaString("protocol type", compact: false)
        group.protocolType = protocolType.isEmpty ? nil : protocolType
        group.generationId = try value.readKafkaInteger("generation")
        group.protocolName = try value.readKafkaNullableString("protocol", compact: false)
        group.leaderId = try value.readKafkaNullableString("leader", compact: false)
        group.stateTimestampMs = version >= 2 ? try value.readKafkaInteger("state timestamp") : nowMs
        let count = Int(try value.readKafkaInteger("members", as: Int32.self))
        guard count >= 0, count <= value.readableBytes else { throw .invalidLength(field: "members", length: Int64(count)) }
        group.members = [:]
        group.staticMembers = [:]
        for _ in 0..<count {
            let memberId = try value.readKafkaString("member id", compact: false)
            let instanceId = version >= 3 ? try value.readKafkaNullableString("instance id", compact: false) : nil
            let clientId = try value.readKafkaString("client id", compact: false)
            let clientHost = try value.readKafkaString("client host", compact: false)
            let rebalanceTimeout: Int32 = version >= 1 ? try value.readKafkaInteger("rebalance timeout") : 300_000
            let sessionTimeout: Int32 = try value.readKafkaInteger("session timeout")
            let subscription = try value.readKafkaBytes("subscription", compact: false)
            let assignment = try value.readKafkaBytes("assignment", compact: false)
            var member = GroupMember(memberId: memberId, groupInstanceId: instanceId, clientId: clientId, clientHost: clientHost,
                                     sessionTimeoutMs: sessionTimeout, rebalanceTimeoutMs: rebalanceTimeout,
                                     protocols: [(group.protocolName ?? "", subscription)], lastHeartbeatMs: nowMs)
            member.assignment = assignment
            group.members[memberId] = member
            if let instanceId { group.staticMembers[instanceId] = memberId }
        }
        group.state = group.members.isEmpty ? .empty : .stable
    }
}
