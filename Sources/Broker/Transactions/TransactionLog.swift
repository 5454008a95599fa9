import KafkaProtocol
import NIOCore

/// Transaction state in the compacted internal topic `__transaction_state`, in Kafka's record
/// layout (big-endian, STRING = INT16 length + UTF-8): key v0 = version INT16 (0),
/// transactional id STRING; value v0 = version INT16 (0), producer id INT64, producer epoch
/// INT16, timeout ms INT32, state INT8 (`TransactionState`), partitions NULLABLE ARRAY of
/// (topic STRING, partition ids ARRAY of INT32), last update ms INT64, start ms INT64.
struct TransactionLog: Sendable {
    static let topic = "__transaction_state"

    let topic: InternalTopic

    init(registry: TopicRegistry, nowMs: Int64) throws(KafkaError) {
        topic = try InternalTopic(name: Self.topic, registry: registry, partitionsSetting: "transaction.state.log.num.partitions",
                                  configs: ["cleanup.policy": "compact", "segment.bytes": "104857600"], nowMs: nowMs)
    }

    /// A tombstone: the transactional id expired (`transactional.id.expiration.ms`).
    func remove(_ transactionalId: String, nowMs: Int64) throws(KafkaError) {
        try append(key: Self.key(transactionalId), value: nil, transactionalId: transactionalId, nowMs: nowMs)
    }

    private static func key(_ transactionalId: String) -> ByteBuffer {
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeKafkaString(transactionalId, compact: false)
        return key
    }

    func write(_ transaction: TransactionMetadata, nowMs: Int64) throws(KafkaError) {
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(transaction.producerId)
        value.writeInteger(transaction.producerEpoch)
        value.writeInteger(transaction.timeoutMs)
        value.writeInteger(transaction.state.rawValue)
        let byTopic = Dictionary(grouping: transaction.partitions, by: \.topic)
        value.writeInteger(Int32(byTopic.count))
        for topic in byTopic.keys.sorted() {
            value.writeKafkaString(topic, compact: false)
            let partitions = byTopic[topic]!.map(\.partition).sorted()
            value.writeInteger(Int32(partitions.count))
            for partition in partitions { value.writeInteger(partition) }
        }
        value.writeInteger(transaction.lastUpdateTimestampMs)
        value.writeInteger(transaction.startTimestampMs)
        try append(key: Self.key(transaction.transactionalId), value: value, transactionalId: transaction.transactionalId, nowMs: nowMs)
    }

    private func append(key: ByteBuffer, value: ByteBuffer?, transactionalId: String, nowMs: Int64) throws(KafkaError) {
        try topic.append([Record(offsetDelta: 0, key: key, value: value)], forKey: transactionalId, nowMs: nowMs)
    }

    /// Replays every partition in offset order.
    func load() throws(KafkaError) -> [String: TransactionMetadata] {
        var transactions: [String: TransactionMetadata] = [:]
        try topic.forEachRecord { record in
            guard var key = record.key, key.readInteger(as: Int16.self) == 0,
                  let id = try? key.readKafkaString("transactional id", compact: false) else { return }
            guard var value = record.value, let decoded = try? Self.decode(&value, id: id) else {
                transactions[id] = nil
                return
            }
            transactions[id] = decoded
        }
        return transactions
    }

    private static func decode(_ value: inout ByteBuffer, id: String) throws(KafkaCodecError) -> TransactionMetadata {
        _ = try value.readKafkaInteger("version", as: Int16.self)
        let producerId: Int64 = try value.readKafkaInteger("producer id")
        let epoch: Int16 = try value.readKafkaInteger("producer epoch")
        let timeout: Int32 = try value.readKafkaInteger("timeout")
        let code: Int8 = try value.readKafkaInteger("state")
        var partitions: Set<TopicPartition> = []
        let topics: Int32 = try value.readKafkaInteger("partitions")
        if topics > 0 {
            guard Int(topics) <= value.readableBytes else { throw .invalidLength(field: "partitions", length: Int64(topics)) }
            for _ in 0..<topics {
                let topic = try value.readKafkaString("topic", compact: false)
                let count: Int32 = try value.readKafkaInteger("partition ids")
                guard count >= 0, Int(count) <= value.readableBytes / 4 else { throw .invalidLength(field: "partition ids", length: Int64(count)) }
                for _ in 0..<count { partitions.insert(TopicPartition(topic: topic, partition: try value.readKafkaInteger("partition"))) }
            }
        }
        let lastUpdate: Int64 = try value.readKafkaInteger("last update")
        let start: Int64 = try value.readKafkaInteger("start")
        return TransactionMetadata(transactionalId: id, producerId: producerId, producerEpoch: epoch, timeoutMs: timeout,
                                   state: TransactionState(rawValue: code) ?? .empty, partitions: partitions,
                                   startTimestampMs: start, lastUpdateTimestampMs: lastUpdate)
    }
}
