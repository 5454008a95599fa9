import KafkaProtocol
import LogStore

/// A compacted internal topic the broker's coordinators keep their state in
/// (`__consumer_offsets`, `__transaction_state`): created on first use, written with plain
/// batches, replayed in offset order at start. A key's records always go to partition
/// `abs(javaHashCode(key)) % partitions`, as in Kafka.
struct InternalTopic: Sendable {
    let name: String
    let registry: TopicRegistry
    let partitionCount: Int32

    /// Opens the topic, creating it with `partitionsSetting` partitions (a broker setting).
    init(name: String, registry: TopicRegistry, partitionsSetting: String, configs: [String: String], nowMs: Int64) throws(KafkaError) {
        self.name = name
        self.registry = registry
        if let existing = registry.topic(named: name) {
            partitionCount = existing.metadata.partitionCount
        } else {
            let count = Int32(registry.brokerProperty(partitionsSetting).flatMap { Int32($0.value) } ?? 50)
            try registry.create(name: name, partitions: count, configs: configs, validateOnly: false, nowMs: nowMs)
            partitionCount = count
        }
    }

    /// Java's `String.hashCode`, which decides the partition in Kafka too.
    static func javaHashCode(_ text: String) -> Int32 {
        var hash: Int32 = 0
        for unit in text.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }

    /// Kafka's `Utils.abs(key.hashCode) % count` (abs of Int32.min is 0 there).
    func partition(for key: String) -> Int32 {
        let hash = Self.javaHashCode(key)
        return (hash == Int32.min ? 0 : abs(hash)) % partitionCount
    }

    func append(_ records: [Record], forKey key: String, nowMs: Int64) throws(KafkaError) {
        guard !records.isEmpty, let log = registry.partition(name, partition(for: key)) else { return }
        do {
            let batch = try RecordBatch(baseTimestamp: nowMs, records: records).encoded()
            _ = try log.append(batch, nowMs: nowMs)
        } catch let error as LogStoreError {
            throw KafkaError(error)
        } catch {
            throw KafkaError(.unknownServerError, "\(error)")
        }
    }

    /// Every record of every partition, each partition in offset order.
    func forEachRecord(_ body: (Record) -> Void) throws(KafkaError) {
        for index in 0..<partitionCount {
            guard let log = registry.partition(name, index) else { continue }
            var next = log.logStartOffset
            while next < log.logEndOffset {
                let read: PartitionLog.ReadResult
                do {
                    read = try log.read(from: next, maxBytes: 8 << 20)
                } catch {
                    throw KafkaError(error)
                }
                guard let bytes = read.records, bytes.readableBytes > 0, let set = try? RecordSet(bytes) else { break }
                for view in set.batches {
                    next = view.lastOffset + 1
                    guard !view.attributes.isControl, let batch = try? RecordBatch(view: view) else { continue }
                    for record in batch.records { body(record) }
                }
            }
        }
    }
}
