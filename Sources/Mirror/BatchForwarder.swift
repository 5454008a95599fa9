import KafkaClient
import KafkaProtocol
import NIOCore

/// Turns source batches into batches the target accepts from a producer. A batch that already
/// is one is forwarded as it is (the producer only stamps its own id, epoch and sequence);
/// otherwise its records are decoded and written again: control batches dropped, offset
/// deltas made contiguous (compacted topics leave gaps), records below the position dropped,
/// log-append times kept as create times, the origin header added under the identity policy,
/// and the records split into batches no larger than the target takes.
struct BatchForwarder {
    /// The source cluster's alias, added to `strait.origin` when `tracksOrigin`.
    var source: String
    var target: String
    var tracksOrigin: Bool

    enum Failure: Error, CustomStringConvertible {
        case recordTooLarge(offset: Int64, size: Int, limit: Int)
        case corrupt(offset: Int64, String)

        var description: String {
            switch self {
            case .recordTooLarge(let offset, let size, let limit):
                return "record at offset \(offset) needs \(size) bytes, more than the target's limit of \(limit)"
            case .corrupt(let offset, let reason):
                return "batch at offset \(offset) cannot be read: \(reason)"
            }
        }
    }

    struct Outcome {
        var batches: [ByteBuffer] = []
        var rewritten = false
        var recordsDropped = 0
    }

    /// What to produce for `batch`, read from `position` on, in batches of at most `limit` bytes.
    func prepare(_ batch: RecordBatchView, position: Int64, limit: Int) throws(Failure) -> Outcome {
        guard !batch.attributes.isControl, batch.recordCount > 0, batch.lastOffset >= position else { return Outcome() }
        let contiguous = Int64(batch.lastOffsetDelta) + 1 == Int64(batch.recordCount)
        if contiguous && batch.baseOffset >= position && batch.attributes.timestampType == .createTime && !tracksOrigin
            && batch.sizeInBytes <= limit {
            return Outcome(batches: [batch.bytes])
        }
        let records: [Record]
        do {
            records = try batch.decodeRecords()
        } catch {
            throw .corrupt(offset: batch.baseOffset, "\(error)")
        }
        let logAppendTime = batch.attributes.timestampType == .logAppendTime
        var kept: [(timestamp: Int64, offset: Int64, record: Record)] = []
        var dropped = 0
        for record in records {
            let offset = batch.baseOffset + Int64(record.offsetDelta)
            guard offset >= position else { continue }
            var copy = record
            if tracksOrigin {
                if RecordOrigin.clusters(in: record.headers).contains(target) {
                    dropped += 1
                    continue
                }
                copy.headers = RecordOrigin.adding(source, to: record.headers)
            }
            kept.append((logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + record.timestampDelta, offset, copy))
        }
        var outcome = Outcome(rewritten: true, recordsDropped: dropped)
        let attributes = RecordBatchAttributes(compression: batch.attributes.compression ?? .none)
        var builder: RecordBatchBuilder?
        func finish() throws(Failure) {
            guard let current = builder, current.recordCount > 0 else { return }
            do {
                outcome.batches.append(try current.build(attributes: attributes))
            } catch {
                throw .corrupt(offset: batch.baseOffset, "\(error)")
            }
            builder = nil
        }
        for (timestamp, offset, record) in kept {
            let size = RecordBatchBuilder.estimatedRecordSize(keySize: record.key?.readableBytes, valueSize: record.value?.readableBytes, headers: record.headers)
            guard RecordBatch.headerSize + size <= limit else { throw .recordTooLarge(offset: offset, size: RecordBatch.headerSize + size, limit: limit) }
            if let current = builder, current.sizeInBytes + size > limit { try finish() }
            if builder == nil { builder = RecordBatchBuilder(baseTimestamp: timestamp, capacity: min(limit, batch.sizeInBytes + 64)) }
            builder!.append(timestamp: timestamp, key: record.key, value: record.value, headers: record.headers)
        }
        try finish()
        return outcome
    }

    /// Legacy (magic 0/1) messages of one fetch, as v2 batches.
    func prepare(legacy messages: [LegacyMessage], position: Int64, limit: Int) throws(Failure) -> Outcome {
        var builder = RecordBatchBuilder(baseTimestamp: messages.first?.timestamp ?? 0)
        var count = 0
        for message in messages where message.offset >= position {
            builder.append(timestamp: message.timestamp, key: message.key, value: message.value,
                           headers: tracksOrigin ? RecordOrigin.adding(source, to: []) : [])
            count += 1
        }
        guard count > 0 else { return Outcome() }
        let bytes: ByteBuffer
        do {
            bytes = try builder.build()
        } catch {
            throw .corrupt(offset: messages[0].offset, "\(error)")
        }
        let view: RecordBatchView
        do {
            view = try RecordBatchView(bytes: bytes)
        } catch {
            throw .corrupt(offset: messages[0].offset, "\(error)")
        }
        // Offsets of the rebuilt batch start at 0; only its size may still need a split.
        var plain = self
        plain.tracksOrigin = false
        var outcome = view.sizeInBytes <= limit ? Outcome(batches: [bytes]) : try plain.prepare(view, position: 0, limit: limit)
        outcome.rewritten = true
        return outcome
    }
}
