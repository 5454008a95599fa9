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

    /// A batch to produce, and which source offsets its records came from: runs whose target
    /// offsets count from the batch's first record (the target assigns the base).
    struct Outgoing {
        var bytes: ByteBuffer
        var runs: [OffsetRun]
    }

    struct Outcome {
        var batches: [Outgoing] = []
        var rewritten = false
        var recordsDropped = 0
    }

    /// What to produce for `batch`, read from `position` on, in batches of at most `limit` bytes.
    func prepare(_ batch: RecordBatchView, position: Int64, limit: Int) throws(Failure) -> Outcome {
        guard !batch.attributes.isControl, batch.recordCount > 0, batch.lastOffset >= position else { return Outcome() }
        let contiguous = Int64(batch.lastOffsetDelta) + 1 == Int64(batch.recordCount)
        if contiguous && batch.baseOffset >= position && batch.attributes.timestampType == .createTime && !tracksOrigin
            && batch.sizeInBytes <= limit {
            // Forwarded bytes are checked as the target will check them, so a batch the source
            // should never have stored stops this partition with its offset instead of looping
            // on the target's refusal.
            do throws(KafkaCodecError) {
                try batch.validateIntegrity()
                try RecordWalk.forEachRecord(in: batch) { _ in true }
            } catch {
                throw .corrupt(offset: batch.baseOffset, "\(error)")
            }
            return Outcome(batches: [Outgoing(bytes: batch.bytes, runs: [OffsetRun(sourceOffset: batch.baseOffset, targetOffset: 0, span: Int64(batch.recordCount))])])
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
            kept.append((logAppendTime ? batch.maxTimestamp : batch.baseTimestamp &+ record.timestampDelta, offset, copy))
        }
        var outcome = Outcome(rewritten: true, recordsDropped: dropped)
        let attributes = RecordBatchAttributes(compression: batch.attributes.compression ?? .none)
        var builder: RecordBatchBuilder?
        var offsets: [Int64] = []
        func finish() throws(Failure) {
            guard let current = builder, current.recordCount > 0 else { return }
            do {
                outcome.batches.append(Outgoing(bytes: try current.build(attributes: attributes), runs: Self.runs(of: offsets)))
            } catch {
                throw .corrupt(offset: batch.baseOffset, "\(error)")
            }
            builder = nil
            offsets = []
        }
        for (timestamp, offset, record) in kept {
            let size = RecordBatchBuilder.estimatedRecordSize(keySize: record.key?.readableBytes, valueSize: record.value?.readableBytes, headers: record.headers)
            guard RecordBatch.headerSize + size <= limit else { throw .recordTooLarge(offset: offset, size: RecordBatch.headerSize + size, limit: limit) }
            if let current = builder, current.sizeInBytes + size > limit { try finish() }
            if builder == nil { builder = RecordBatchBuilder(baseTimestamp: timestamp, capacity: min(limit, batch.sizeInBytes + 64)) }
            builder!.append(timestamp: timestamp, key: record.key, value: record.value, headers: record.headers)
            offsets.append(offset)
        }
        try finish()
        return outcome
    }

    /// Legacy (magic 0/1) messages of one fetch, as v2 batches.
    func prepare(legacy messages: [LegacyMessage], position: Int64, limit: Int) throws(Failure) -> Outcome {
        var builder = RecordBatchBuilder(baseTimestamp: messages.first?.timestamp ?? 0)
        var offsets: [Int64] = []
        for message in messages where message.offset >= position {
            builder.append(timestamp: message.timestamp, key: message.key, value: message.value,
                           headers: tracksOrigin ? RecordOrigin.adding(source, to: []) : [])
            offsets.append(message.offset)
        }
        guard let first = offsets.first else { return Outcome() }
        let bytes: ByteBuffer
        do {
            bytes = try builder.build()
        } catch {
            throw .corrupt(offset: first, "\(error)")
        }
        let view: RecordBatchView
        do {
            view = try RecordBatchView(bytes: bytes)
        } catch {
            throw .corrupt(offset: first, "\(error)")
        }
        // Offsets of the rebuilt batch start at 0; only its size may still need a split.
        var plain = self
        plain.tracksOrigin = false
        var outcome = view.sizeInBytes <= limit ? Outcome(batches: [Outgoing(bytes: bytes, runs: [OffsetRun(sourceOffset: 0, targetOffset: 0, span: Int64(offsets.count))])])
                                                : try plain.prepare(view, position: 0, limit: limit)
        outcome.rewritten = true
        // Runs of the rebuilt batch count its records from 0: put the messages' offsets back.
        for index in outcome.batches.indices {
            let indexes = outcome.batches[index].runs.flatMap { $0.sourceOffset..<$0.sourceEnd }
            outcome.batches[index].runs = Self.runs(of: indexes.map { offsets[Int($0)] })
        }
        return outcome
    }

    /// The runs of records with these source offsets, written in this order to one batch.
    static func runs(of offsets: [Int64]) -> [OffsetRun] {
        var runs: [OffsetRun] = []
        for (index, offset) in offsets.enumerated() {
            let next = OffsetRun(sourceOffset: offset, targetOffset: Int64(index), span: 1)
            if let last = runs.last, last.isContinued(by: next) { runs[runs.count - 1].span += 1 } else { runs.append(next) }
        }
        return runs
    }
}
