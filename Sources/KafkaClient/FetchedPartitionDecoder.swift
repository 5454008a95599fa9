import KafkaProtocol

/// Turns one partition's Fetch answer into what `poll` hands out: batches from the position
/// on, without control batches and, for read_committed, without the aborted transactions the
/// broker listed (KIP-98: a producer's transactional batches from the first offset of an
/// aborted transaction up to its ABORT marker); legacy (magic 0/1) messages unwrapped. Pure, so
/// it is tested on hand-made answers (and fuzzed).
public struct FetchedPartitionDecoder: Sendable {
    public var isolationLevel: ConsumerConfig.IsolationLevel
    public var checkCRCs: Bool

    public init(isolationLevel: ConsumerConfig.IsolationLevel, checkCRCs: Bool) {
        self.isolationLevel = isolationLevel
        self.checkCRCs = checkCRCs
    }

    /// Offsets a log can hold, with room for a batch's deltas and the next offset after it: a
    /// broker's forged offset near `Int64.max` is refused instead of overflowing arithmetic.
    static func plausible(_ offset: Int64) -> Bool {
        offset >= 0 && offset <= Int64.max / 2
    }

    public func decode(_ topicPartition: TopicPartition, position: Int64, _ data: FetchResponse.PartitionData) -> Result<PartitionFetch?, KafkaClientError> {
        guard data.errorCode == 0 else {
            if data.errorCode == ErrorCode.offsetOutOfRange.rawValue {
                return .failure(.offsetOutOfRange(topic: topicPartition.topic, partition: topicPartition.partition, offset: position))
            }
            return .failure(.from(data.errorCode, "Fetch \(topicPartition)"))
        }
        guard let records = data.records, records.readableBytes > 0 else { return .success(nil) }
        let set: RecordSet
        do {
            set = try RecordSet(records)
        } catch {
            return .failure(.codec("Fetch \(topicPartition) at \(position): \(error)"))
        }
        var aborted = (data.abortedTransactions ?? []).sorted { $0.firstOffset < $1.firstOffset }[...]
        var abortedProducers: Set<Int64> = []
        var fetch = PartitionFetch(topicPartition: topicPartition, fetchOffset: position, batches: [], legacyMessages: [], nextOffset: position,
                                   highWatermark: data.highWatermark, lastStableOffset: data.lastStableOffset, logStartOffset: data.logStartOffset)
        for entry in set.entries {
            switch entry {
            case .batch(let view):
                guard Self.plausible(view.baseOffset) else {
                    return .failure(.codec("Fetch \(topicPartition): batch base offset \(view.baseOffset) is not a log offset"))
                }
                guard view.lastOffset >= position else { continue }
                if checkCRCs {
                    do {
                        try view.validateIntegrity()
                    } catch {
                        return .failure(.codec("Fetch \(topicPartition) batch at \(view.baseOffset): \(error)"))
                    }
                }
                fetch.nextOffset = view.lastOffset + 1
                if isolationLevel == .readCommitted {
                    while let next = aborted.first, next.firstOffset <= view.lastOffset {
                        abortedProducers.insert(next.producerId)
                        aborted.removeFirst()
                    }
                }
                if view.attributes.isControl {
                    if let record = try? view.decodeRecords().first, let marker = try? ControlRecord(record: record), marker.type == .abort {
                        abortedProducers.remove(view.producerId)
                    }
                    continue
                }
                if view.attributes.isTransactional && abortedProducers.contains(view.producerId) { continue }
                fetch.batches.append(view)
            case .legacy(let message):
                let flattened: [LegacyMessage]
                do {
                    flattened = try message.flattened()
                } catch {
                    return .failure(.codec("Fetch \(topicPartition) legacy message at \(message.offset): \(error)"))
                }
                if let wild = flattened.first(where: { !Self.plausible($0.offset) }) {
                    return .failure(.codec("Fetch \(topicPartition): legacy message offset \(wild.offset) is not a log offset"))
                }
                for inner in flattened where inner.offset >= position {
                    fetch.legacyMessages.append(inner)
                    fetch.nextOffset = inner.offset + 1
                }
            }
        }
        return .success(fetch.nextOffset > position ? fetch : nil)
    }
}
