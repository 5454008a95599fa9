#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol
import NIOCore

/// One segment of a partition log: `<baseOffset>.log` with its `.index`, `.timeindex` and
/// `.txnindex` (see `TransactionIndex`).
///
/// `.log` format: RecordBatch v2 entries exactly as produced (after the broker patched base
/// offset and leader epoch), back to back, nothing else. A crash can leave a torn last batch;
/// recovery keeps the longest prefix of whole batches whose CRC holds and truncates the rest.
/// File names are the base offset in 20 decimal digits, so they sort in offset order.
///
/// Not thread-safe: the owning `PartitionLog` serialises access. Files are opened lazily and an
/// inactive segment holds no descriptor for its indexes.
final class LogSegment {
    let baseOffset: Int64
    let directory: String
    private var logFile: LogFile?
    private(set) var size: Int
    /// The offset after this segment's last batch.
    private(set) var nextOffset: Int64
    /// Largest batch max-timestamp in the segment (-1 if none), for retention and ListOffsets.
    private(set) var maxTimestamp: Int64 = -1
    private(set) var offsetOfMaxTimestamp: Int64 = -1
    /// Wall-clock time of the first append, for `segment.ms`.
    private(set) var createdAtMs: Int64

    private var offsetIndex: OffsetIndex?
    private var timeIndex: TimeIndex?
    private var indexWriter: LogFile?
    private var timeIndexWriter: LogFile?
    private var bytesSinceIndexEntry = 0
    private var transactionIndex: TransactionIndex?
    private var transactionIndexWriter: LogFile?

    static func fileName(_ offset: Int64, _ suffix: String) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    var logPath: String { directory + "/" + Self.fileName(baseOffset, ".log") }
    var indexPath: String { directory + "/" + Self.fileName(baseOffset, ".index") }
    var timeIndexPath: String { directory + "/" + Self.fileName(baseOffset, ".timeindex") }
    var transactionIndexPath: String { directory + "/" + Self.fileName(baseOffset, ".txnindex") }
    private var paths: [String] { [logPath, indexPath, timeIndexPath, transactionIndexPath] }

    /// A new, empty segment.
    init(directory: String, baseOffset: Int64, nowMs: Int64) throws(LogStoreError) {
        self.directory = directory
        self.baseOffset = baseOffset
        size = 0
        nextOffset = baseOffset
        createdAtMs = nowMs
        for path in paths { FileSystem.remove(path) }
        logFile = try LogFile(path: logPath)
        offsetIndex = OffsetIndex()
        timeIndex = TimeIndex()
        transactionIndex = TransactionIndex()
        transactionIndexWriter = try LogFile(path: transactionIndexPath)
    }

    /// Opens an existing segment. With `recover`, every batch is checked (CRC included), a torn
    /// tail is truncated and the indexes are rebuilt; otherwise the indexes are trusted and only
    /// the batches after the last index entry are read to find the segment's end.
    init(directory: String, baseOffset: Int64, recover: Bool, indexIntervalBytes: Int) throws(LogStoreError) {
        self.directory = directory
        self.baseOffset = baseOffset
        let file = try LogFile(path: directory + "/" + Self.fileName(baseOffset, ".log"), create: false)
        size = file.size
        nextOffset = baseOffset
        var info = stat()
        createdAtMs = stat(file.path, &info) == 0 ? Int64(info.st_mtim.tv_sec) * 1000 : 0
        logFile = file
        if !recover, let index = loadOffsetIndex(), let times = loadTimeIndex() {
            offsetIndex = index
            timeIndex = times
            let start = index.lastEntry.map { Int($0.position) } ?? 0
            try scan(from: start, validate: false) { _, view in
                self.nextOffset = view.lastOffset + 1
                if view.maxTimestamp > self.maxTimestamp {
                    self.maxTimestamp = view.maxTimestamp
                    self.offsetOfMaxTimestamp = view.lastOffset
                }
                return true
            }
            if let last = times.timestamps.last, last > maxTimestamp {
                maxTimestamp = last
                offsetOfMaxTimestamp = baseOffset + Int64(times.relativeOffsets.last!)
            }
        } else {
            _ = try self.recover(indexIntervalBytes: indexIntervalBytes)
        }
    }

    private func log() throws(LogStoreError) -> LogFile {
        if let logFile { return logFile }
        let file = try LogFile(path: logPath, create: false)
        logFile = file
        return file
    }

    private func loadOffsetIndex() -> OffsetIndex? {
        guard let file = try? LogFile(path: indexPath, create: false), let bytes = try? file.read(at: 0, length: file.size) else { return nil }
        return OffsetIndex(bytes: bytes, logSize: size)
    }

    private func loadTimeIndex() -> TimeIndex? {
        guard let file = try? LogFile(path: timeIndexPath, create: false), let bytes = try? file.read(at: 0, length: file.size) else { return nil }
        return TimeIndex(bytes: bytes)
    }

    /// Whether the `.txnindex` file exists: segments written before it existed have none, and
    /// the partition then rebuilds every index from the log.
    var hasTransactionIndex: Bool { transactionIndex != nil || FileSystem.exists(transactionIndexPath) }

    /// The aborted transactions whose markers are in this segment; loaded once and kept (a few
    /// entries at most for most segments).
    func abortedTransactions() -> TransactionIndex {
        if let transactionIndex { return transactionIndex }
        let file = try? LogFile(path: transactionIndexPath, create: false)
        let loaded = file.flatMap { try? $0.read(at: 0, length: $0.size) }.map(TransactionIndex.init(bytes:)) ?? TransactionIndex()
        transactionIndex = loaded
        return loaded
    }

    /// Records an aborted transaction whose marker was just appended to this segment.
    func appendAborted(_ entry: TransactionIndex.AbortedTxn) throws(LogStoreError) {
        var index = abortedTransactions()
        let bytes = index.append(entry)
        transactionIndex = index
        if transactionIndexWriter == nil { transactionIndexWriter = try LogFile(path: transactionIndexPath) }
        try transactionIndexWriter!.append(bytes)
    }

    /// Replaces the index with what a walk of the log found; the file is rewritten only when
    /// it differs (a crash lost an entry or left a torn one).
    func rebuildTransactionIndex(_ rebuilt: TransactionIndex) throws(LogStoreError) {
        guard !hasTransactionIndex || abortedTransactions() != rebuilt else { return }
        transactionIndexWriter = nil
        try FileSystem.writeAtomically(rebuilt.encoded, to: transactionIndexPath)
        transactionIndex = rebuilt
    }

    private func offsets() -> OffsetIndex {
        if let offsetIndex { return offsetIndex }
        let loaded = loadOffsetIndex() ?? OffsetIndex()
        offsetIndex = loaded
        return loaded
    }

    private func times() -> TimeIndex {
        if let timeIndex { return timeIndex }
        let loaded = loadTimeIndex() ?? TimeIndex()
        timeIndex = loaded
        return loaded
    }

    /// Walks whole batches from `position`. With `validate` (recovery, from position 0), stops
    /// at the first batch that is torn, fails its checks, or does not follow the previous
    /// batch's offsets. `body` returns false to stop. Returns the end position reached.
    @discardableResult
    func scan(from position: Int, validate: Bool, _ body: (Int, RecordBatchView) throws(LogStoreError) -> Bool) throws(LogStoreError) -> Int {
        let file = try log()
        var position = position
        var floor = baseOffset
        let chunkSize = 1 << 20
        while position < file.size {
            var chunk = try file.read(at: position, length: chunkSize)
            var consumed = 0
            while chunk.readableBytes >= RecordBatch.logOverhead {
                let length = Int(chunk.getInteger(at: chunk.readerIndex + 8, as: Int32.self)!)
                let total = length + RecordBatch.logOverhead
                guard length >= RecordBatch.headerSize - RecordBatch.logOverhead else { return position + consumed }
                if total > chunk.readableBytes {
                    if consumed == 0 {
                        // A batch larger than the chunk: read it whole.
                        chunk = try file.read(at: position, length: total)
                        if chunk.readableBytes < total { return position }
                        continue
                    }
                    break
                }
                let bytes = chunk.readSlice(length: total)!
                guard let view = try? RecordBatchView(bytes: bytes) else { return position + consumed }
                if validate {
                    guard (try? view.validateIntegrity()) != nil, view.baseOffset >= floor else { return position + consumed }
                    floor = view.lastOffset + 1
                }
                if try !body(position + consumed, view) { return position + consumed + total }
                consumed += total
            }
            if consumed == 0 { return position }
            position += consumed
        }
        return position
    }

    /// Validates every batch, truncates after the last good one and rebuilds both indexes.
    /// Returns the number of bytes truncated.
    func recover(indexIntervalBytes: Int) throws(LogStoreError) -> Int {
        var index = OffsetIndex()
        var times = TimeIndex()
        var sinceEntry = 0
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = -1
        let end = try scan(from: 0, validate: true) { position, view in
            if index.count == 0 || sinceEntry >= indexIntervalBytes {
                _ = index.append(relativeOffset: UInt32(view.baseOffset - self.baseOffset), position: UInt32(position))
                sinceEntry = 0
            }
            if view.maxTimestamp > self.maxTimestamp {
                self.maxTimestamp = view.maxTimestamp
                self.offsetOfMaxTimestamp = view.lastOffset
                _ = times.append(timestamp: view.maxTimestamp, relativeOffset: UInt32(view.baseOffset - self.baseOffset))
            }
            sinceEntry += view.sizeInBytes
            self.nextOffset = view.lastOffset + 1
            return true
        }
        let file = try log()
        let truncated = file.size - end
        if truncated > 0 { try file.truncate(to: end) }
        size = end
        offsetIndex = index
        timeIndex = times
        try rewriteIndexes()
        bytesSinceIndexEntry = sinceEntry
        return truncated
    }

    private func rewriteIndexes() throws(LogStoreError) {
        var bytes = ByteBuffer()
        let index = offsets()
        for i in 0..<index.count {
            bytes.writeInteger(index.relativeOffsets[i])
            bytes.writeInteger(index.positions[i])
        }
        FileSystem.remove(indexPath)
        let indexFile = try LogFile(path: indexPath)
        try indexFile.append(bytes)
        var timeBytes = ByteBuffer()
        let timeEntries = times()
        for i in 0..<timeEntries.count {
            timeBytes.writeInteger(timeEntries.timestamps[i])
            timeBytes.writeInteger(timeEntries.relativeOffsets[i])
        }
        FileSystem.remove(timeIndexPath)
        let timeFile = try LogFile(path: timeIndexPath)
        try timeFile.append(timeBytes)
        indexWriter = nil
        timeIndexWriter = nil
    }

    /// Whether a batch of `bytes` bytes ending at `lastOffset` still fits this segment.
    func canAppend(bytes: Int, lastOffset: Int64, config: LogConfig, nowMs: Int64) -> Bool {
        if size == 0 { return lastOffset - baseOffset <= Int64(UInt32.max) }
        if size + bytes > config.segmentBytes { return false }
        if nowMs - createdAtMs > config.segmentMs { return false }
        if (offsets().count + 1) * OffsetIndex.entrySize > config.segmentIndexBytes { return false }
        return lastOffset - baseOffset <= Int64(UInt32.max)
    }

    /// Appends one batch whose offsets are already assigned.
    func append(_ view: RecordBatchView, indexIntervalBytes: Int) throws(LogStoreError) {
        let file = try log()
        let position = size
        if bytesSinceIndexEntry >= indexIntervalBytes || offsets().count == 0 {
            let entry = offsetIndex!.append(relativeOffset: UInt32(view.baseOffset - baseOffset), position: UInt32(position))
            try indexFile().append(entry)
            bytesSinceIndexEntry = 0
        }
        try file.append(view.bytes)
        size = file.size
        bytesSinceIndexEntry += view.sizeInBytes
        nextOffset = view.lastOffset + 1
        if view.maxTimestamp > maxTimestamp {
            maxTimestamp = view.maxTimestamp
            offsetOfMaxTimestamp = view.lastOffset
            _ = times()
            if let entry = timeIndex!.append(timestamp: view.maxTimestamp, relativeOffset: UInt32(view.baseOffset - baseOffset)) {
                try timeIndexFile().append(entry)
            }
        }
    }

    private func indexFile() throws(LogStoreError) -> LogFile {
        if let indexWriter { return indexWriter }
        let file = try LogFile(path: indexPath)
        indexWriter = file
        return file
    }

    private func timeIndexFile() throws(LogStoreError) -> LogFile {
        if let timeIndexWriter { return timeIndexWriter }
        let file = try LogFile(path: timeIndexPath)
        timeIndexWriter = file
        return file
    }

    /// Position and header of the batch holding `offset`, or nil past the segment's end.
    func locate(_ offset: Int64) throws(LogStoreError) -> (position: Int, header: RecordBatchHeader)? {
        guard offset < nextOffset else { return nil }
        let relative = UInt32(clamping: max(0, offset - baseOffset))
        let file = try log()
        var position = offsets().lookup(relative)
        // Walks headers only (61 bytes each) from the index entry.
        while position + RecordBatch.headerSize <= size {
            guard let header = try? RecordBatchHeader(file.read(at: position, length: RecordBatch.headerSize)) else { return nil }
            if header.lastOffset >= offset { return (position, header) }
            position += header.totalSize
        }
        return nil
    }

    /// Every batch header in order, read 61 bytes at a time; control batches (transaction
    /// markers, a few bytes) are read whole so their marker type is known.
    func forEachHeader(_ body: (RecordBatchHeader, ControlRecord?) throws(LogStoreError) -> Void) throws(LogStoreError) {
        let file = try log()
        var position = 0
        while position + RecordBatch.headerSize <= size {
            guard let header = try? RecordBatchHeader(file.read(at: position, length: RecordBatch.headerSize)) else { return }
            var marker: ControlRecord?
            if header.attributes.isControl,
               let view = try? RecordBatchView(bytes: file.read(at: position, length: header.totalSize)),
               let record = try? view.decodeRecords().first {
                marker = try? ControlRecord(record: record)
            }
            try body(header, marker)
            position += header.totalSize
        }
    }

    /// The file range of whole batches starting with the one holding `offset`, up to
    /// `maxBytes` (at least one batch with `minOneBatch`), found by walking headers only.
    /// Batches starting at or after `endOffset` are left out (read_committed stops at the last
    /// stable offset).
    func slice(from offset: Int64, maxBytes: Int, minOneBatch: Bool, endOffset: Int64 = .max) throws(LogStoreError) -> FileSlice? {
        guard let (start, first) = try locate(offset), first.baseOffset < endOffset else { return nil }
        if first.totalSize > maxBytes && !minOneBatch { return nil }
        let file = try log()
        var end = start + first.totalSize
        while end + RecordBatch.headerSize <= size {
            guard let header = try? RecordBatchHeader(file.read(at: end, length: RecordBatch.headerSize)),
                  header.baseOffset < endOffset, end + header.totalSize - start <= maxBytes, end + header.totalSize <= size else { break }
            end += header.totalSize
        }
        return FileSlice(descriptor: try file.duplicateDescriptor(), position: start, length: end - start)
    }

    /// The first offset whose record timestamp is at least `timestamp`, if this segment has one.
    func offset(forTimestamp timestamp: Int64) throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        guard maxTimestamp >= timestamp else { return nil }
        let startRelative = times().lookup(timestamp)
        let start = offsets().lookup(startRelative)
        var result: (Int64, Int64)?
        try scan(from: start, validate: false) { _, view in
            guard view.maxTimestamp >= timestamp else { return true }
            if view.attributes.timestampType == .logAppendTime {
                result = (view.baseOffset, view.maxTimestamp)
                return false
            }
            // Walked, not decoded: one batch may expand to hundreds of megabytes.
            try? RecordWalk.forEachRecord(in: view, consecutiveOffsets: false) { record in
                let recordTimestamp = view.baseTimestamp &+ record.timestampDelta
                guard recordTimestamp >= timestamp else { return true }
                result = (view.baseOffset + Int64(record.offsetDelta), recordTimestamp)
                return false
            }
            return result == nil
        }
        return result
    }

    /// Replaces the segment's batches (compaction): the new bytes go to `<base>.log.cleaned`,
    /// which is fsynced and renamed over the log; the indexes are then rebuilt from it.
    func replace(with bytes: ByteBuffer, indexIntervalBytes: Int) throws(LogStoreError) {
        let cleanedPath = logPath + ".cleaned"
        FileSystem.remove(cleanedPath)
        let cleaned = try LogFile(path: cleanedPath)
        try cleaned.append(bytes)
        try cleaned.sync()
        closeFiles()
        try FileSystem.move(cleanedPath, logPath)
        logFile = try LogFile(path: logPath, create: false)
        size = logFile!.size
        let end = nextOffset
        _ = try recover(indexIntervalBytes: indexIntervalBytes)
        // Dropping the segment's last records must not move the offsets that follow it.
        nextOffset = max(nextOffset, end)
    }

    func flush() throws(LogStoreError) {
        try logFile?.sync()
        try indexWriter?.sync()
        try timeIndexWriter?.sync()
        try transactionIndexWriter?.sync()
    }

    /// Releases descriptors; the segment reopens its log on the next access.
    func closeFiles() {
        logFile = nil
        indexWriter = nil
        timeIndexWriter = nil
        transactionIndexWriter = nil
    }

    func delete() {
        closeFiles()
        for path in paths { FileSystem.remove(path) }
    }
}
