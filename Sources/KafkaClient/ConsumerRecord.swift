import KafkaProtocol
import NIOCore

/// A record as the consumer hands it over; key, value and header values are slices of the
/// fetched bytes, not copies.
public struct ConsumerRecord: Sendable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public var timestamp: Int64
    public var timestampType: TimestampType
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    /// The leader epoch the record was written in, -1 for legacy (magic 0/1) data.
    public var leaderEpoch: Int32
}

/// What one fetch returned for one partition, as raw batches (the mirror's view): aborted
/// transactions and control batches are already left out, and `nextOffset` is where the
/// position moves, which may be past the last batch shown (gaps, markers, aborted data).
public struct PartitionFetch: Sendable {
    public var topicPartition: TopicPartition
    /// The position the fetch started from.
    public var fetchOffset: Int64
    public var batches: [RecordBatchView]
    /// Magic 0/1 messages from old clusters, already unwrapped to one entry per record.
    public var legacyMessages: [LegacyMessage]
    public var nextOffset: Int64
    public var highWatermark: Int64
    public var lastStableOffset: Int64
    public var logStartOffset: Int64

    /// The records, decoded (decompressing where needed). Records before `fetchOffset` (the
    /// start of a batch the position is inside) are left out.
    public func records() throws(KafkaClientError) -> [ConsumerRecord] {
        var result: [ConsumerRecord] = []
        result.reserveCapacity(reservation)
        try appendRecords(to: &result)
        return result
    }

    /// Bytes of the fetched batches (what the fetcher counts against `fetch.max.bytes`).
    public var sizeInBytes: Int {
        batches.reduce(0) { $0 + $1.sizeInBytes }
    }

    /// Records in the fetched batches as their headers claim (an upper bound on what
    /// `records()` returns, from a broker that does not lie).
    public var recordCount: Int {
        batches.reduce(legacyMessages.count) { $0 + Int($1.recordCount) }
    }

    /// Room to reserve for the records: `recordCount`, capped, since the count comes from the
    /// broker's bytes and a forged one must not drive an allocation (past the cap, arrays grow
    /// as records are really decoded).
    public var reservation: Int {
        min(recordCount, Self.reservationCap)
    }

    static let reservationCap = 65_536

    /// Like `records()`, appending to an array the caller keeps (reserve `reservation` first:
    /// one allocation per poll in the common case).
    public func appendRecords(to result: inout [ConsumerRecord]) throws(KafkaClientError) {
        for view in batches {
            let records: [Record]
            do {
                records = try view.decodeRecords()
            } catch {
                throw .codec("\(topicPartition) batch at \(view.baseOffset): \(error)")
            }
            let base = view.baseOffset
            let logAppendTime = view.attributes.timestampType == .logAppendTime
            let baseTimestamp = view.baseTimestamp
            let maxTimestamp = view.maxTimestamp
            let timestampType = view.attributes.timestampType
            let epoch = view.partitionLeaderEpoch
            for record in records {
                let offset = base + Int64(record.offsetDelta)
                guard offset >= fetchOffset else { continue }
                result.append(ConsumerRecord(topicPartition: topicPartition, offset: offset,
                                             timestamp: logAppendTime ? maxTimestamp : baseTimestamp &+ record.timestampDelta,
                                             timestampType: timestampType, key: record.key, value: record.value,
                                             headers: record.headers, leaderEpoch: epoch))
            }
        }
        for message in legacyMessages where message.offset >= fetchOffset {
            result.append(ConsumerRecord(topicPartition: topicPartition, offset: message.offset, timestamp: message.timestamp,
                                         timestampType: message.timestampType, key: message.key, value: message.value, headers: [], leaderEpoch: -1))
        }
    }
}
