import KafkaProtocol
import NIOCore

/// Compaction for `cleanup.policy=compact`: keeps, for every key, only the record with the
/// highest offset, in the segments that are eligible (inactive and older than
/// `min.compaction.lag.ms`). Tombstones (null values) are dropped once their segment is older
/// than `delete.retention.ms`, long enough for consumers to have seen the delete.
///
/// Offsets never change: a batch that loses records keeps its base offset and
/// `lastOffsetDelta`, so the log has gaps, as Kafka's compacted logs do. Control batches are
/// kept as they are.
struct LogCleaner {
    let config: LogConfig
    let nowMs: Int64

    /// The latest offset of every key in `segments` (the whole log, so newer values in the
    /// active segment supersede older ones being cleaned).
    static func latestOffsets(_ segments: [LogSegment]) throws(LogStoreError) -> [ByteBuffer: Int64] {
        var latest: [ByteBuffer: Int64] = [:]
        for segment in segments {
            try segment.scan(from: 0, validate: false) { _, view in
                guard !view.attributes.isControl else { return true }
                try? RecordWalk.forEachRecord(in: view, keys: true, consecutiveOffsets: false) { record in
                    if let key = record.key { latest[key] = view.baseOffset + Int64(record.offsetDelta) }
                    return true
                }
                return true
            }
        }
        return latest
    }

    /// The segment's batches with superseded records (and expired tombstones) removed; nil when
    /// nothing would change.
    func cleaned(_ segment: LogSegment, latest: [ByteBuffer: Int64]) throws(LogStoreError) -> ByteBuffer? {
        let dropTombstones = segment.maxTimestamp >= 0 && nowMs - segment.maxTimestamp > config.deleteRetentionMs
        var output = ByteBuffer()
        var changed = false
        var failure: LogStoreError?
        try segment.scan(from: 0, validate: false) { _, view in
            if view.attributes.isControl {
                var bytes = view.bytes
                output.writeBuffer(&bytes)
                return true
            }
            func keeps(key: ByteBuffer?, offsetDelta: Int32, hasValue: Bool) -> Bool {
                guard let key, latest[key] == view.baseOffset + Int64(offsetDelta) else { return false }
                return !(dropTombstones && !hasValue)
            }
            // A walk first: most batches keep every record, and are then copied without being
            // decoded (one batch may expand to hundreds of megabytes).
            var dropsAny = false
            do throws(KafkaCodecError) {
                try RecordWalk.forEachRecord(in: view, keys: true, consecutiveOffsets: false, decompressionLimit: config.decompressionLimit) { record in
                    dropsAny = !keeps(key: record.key, offsetDelta: record.offsetDelta, hasValue: record.hasValue)
                    return !dropsAny
                }
            } catch {
                failure = .corruptBatch("\(error)")
                return false
            }
            if !dropsAny {
                var bytes = view.bytes
                output.writeBuffer(&bytes)
                return true
            }
            let batch: RecordBatch
            do {
                batch = try RecordBatch(view: view, decompressionLimit: config.decompressionLimit)
            } catch {
                failure = .corruptBatch("\(error)")
                return false
            }
            let kept = batch.records.filter { keeps(key: $0.key, offsetDelta: $0.offsetDelta, hasValue: $0.value != nil) }
            changed = true
            guard !kept.isEmpty else { return true }
            var rewritten = batch
            rewritten.records = kept
            do {
                try rewritten.encode(into: &output)
            } catch {
                failure = .corruptBatch("\(error)")
                return false
            }
            return true
        }
        if let failure { throw failure }
        return changed ? output : nil
    }
}
