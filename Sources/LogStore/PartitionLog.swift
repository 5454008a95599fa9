import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// The log of one topic partition: its segments, log start offset, leader-epoch cache and the
/// policies that act on them (roll, flush, retention, DeleteRecords).
///
/// Directory `<topic>-<partition>` holds the segments plus three small text files:
/// `leader-epoch-checkpoint` (see `LeaderEpochCache`), `log-start-offset` (one decimal line,
/// written when DeleteRecords or retention moves the start) and `recovery-point` (one decimal
/// line: every batch below it was fsynced, so unclean-start recovery begins at its segment).
///
/// Thread-safe: one lock serialises appends, reads and maintenance of this partition.
public final class PartitionLog: @unchecked Sendable {
    public let topic: String
    public let partition: Int32
    public let directory: String
    /// The leader epoch this broker writes with: one more than any epoch in the log, so each
    /// broker start begins a new epoch and lost unflushed data shows up as truncation.
    public let leaderEpoch: Int32
    /// Local files found damaged at open and rebuilt, one line each naming the file, for the
    /// broker to log.
    public let repairs: [String]

    private let lock = NIOLock()
    private var segments: [LogSegment]
    private var config: LogConfig
    private var logStart: Int64
    private var epochs: LeaderEpochCache
    private var unflushedMessages: Int64 = 0
    private var lastFlushMs: Int64
    private var recoveryPoint: Int64
    private var closed = false
    private var producers = ProducerStateManager()
    private var transactions = OngoingTransactions()

    public struct AppendResult: Sendable {
        public var baseOffset: Int64
        public var lastOffset: Int64
        /// The broker time written into LogAppendTime batches, or -1.
        public var logAppendTime: Int64
        public var logStartOffset: Int64
    }

    public struct ReadResult: Sendable {
        public var records: ByteBuffer?
        public var highWatermark: Int64
        public var logStartOffset: Int64
    }

    /// Opens (or creates) the partition log in `directory`. `cleanShutdown` says whether the
    /// previous process closed the logs; if not, segments after the recovery point are checked
    /// batch by batch and a torn tail is truncated.
    public init(directory: String, topic: String, partition: Int32, config: LogConfig, cleanShutdown: Bool, nowMs: Int64) throws(LogStoreError) {
        self.directory = directory
        self.topic = topic
        self.partition = partition
        self.config = config
        lastFlushMs = nowMs
        try FileSystem.makeDirectory(directory)
        let bases = FileSystem.list(directory).compactMap { name -> Int64? in
            guard name.hasSuffix(".log") else { return nil }
            return Int64(name.dropLast(4))
        }.sorted()
        let savedRecoveryPoint = FileSystem.readText(directory + "/recovery-point").flatMap { Int64($0.trimmingWhitespace()) } ?? 0
        var loaded: [LogSegment] = []
        for (index, base) in bases.enumerated() {
            let nextBase = index == bases.count - 1 ? Int64.max : bases[index + 1]
            let mustRecover = !cleanShutdown && nextBase > savedRecoveryPoint
            loaded.append(try LogSegment(directory: directory, baseOffset: base, recover: mustRecover, indexIntervalBytes: config.indexIntervalBytes))
        }
        if loaded.isEmpty {
            loaded.append(try LogSegment(directory: directory, baseOffset: 0, nowMs: nowMs))
        }
        segments = loaded
        let end = loaded.last!.nextOffset
        let savedStart = FileSystem.readText(directory + "/log-start-offset").flatMap { Int64($0.trimmingWhitespace()) }
        logStart = min(max(savedStart ?? loaded.first!.baseOffset, loaded.first!.baseOffset), end)
        recoveryPoint = min(savedRecoveryPoint, end)
        var producers = ProducerStateManager()
        var transactions = OngoingTransactions()
        let snapshotPath = directory + "/" + ProducerStateSnapshot.fileName
        let snapshot = cleanShutdown ? try? LogFile(path: snapshotPath, create: false).read(at: 0, length: 1 << 30) : nil
        if let snapshot, loaded.allSatisfy(\.hasTransactionIndex),
           let (savedProducers, savedTransactions) = ProducerStateSnapshot.decode(snapshot, logEndOffset: loaded.last!.nextOffset) {
            producers = savedProducers
            transactions = savedTransactions
            for segment in loaded.dropLast() { segment.closeFiles() }
        } else {
            // One walk of the batch headers rebuilds the producer state, the open transactions
            // and every segment's aborted-transaction index.
            for segment in loaded {
                var aborted = TransactionIndex()
                try segment.forEachHeader { header, marker in
                    producers.update(from: header)
                    if let marker {
                        if let entry = transactions.markerAppended(producerId: header.producerId, type: marker.type,
                                                                   offset: header.baseOffset, highWatermark: header.lastOffset + 1) {
                            _ = aborted.append(entry)
                        }
                    } else if header.attributes.isTransactional {
                        transactions.dataAppended(producerId: header.producerId, baseOffset: header.baseOffset)
                    }
                }
                try segment.rebuildTransactionIndex(aborted)
                if segment !== loaded.last { segment.closeFiles() }
            }
        }
        // Valid only for the clean stop it was taken at.
        FileSystem.remove(snapshotPath)
        self.producers = producers
        self.transactions = transactions
        epochs = LeaderEpochCache(path: directory + "/leader-epoch-checkpoint")
        var repairs: [String] = []
        if epochs.damaged {
            // Every batch carries the epoch of the leader that wrote it: the first batch of each
            // higher epoch is where that epoch started.
            var rebuilt: [LeaderEpochCache.Entry] = []
            for segment in loaded {
                try segment.forEachHeader { header, _ in
                    let epoch = header.partitionLeaderEpoch
                    if epoch >= 0, epoch > rebuilt.last?.epoch ?? -1 { rebuilt.append(.init(epoch: epoch, startOffset: header.baseOffset)) }
                }
                if segment !== loaded.last { segment.closeFiles() }
            }
            try epochs.rebuild(rebuilt)
            repairs.append("\(directory)/leader-epoch-checkpoint could not be read; rebuilt from the log's batches (\(rebuilt.count) epochs)")
        }
        self.repairs = repairs
        try epochs.truncate(fromOffset: end + 1)
        leaderEpoch = (epochs.latestEpoch ?? -1) + 1
    }

    private func withLock<T>(_ body: () throws(LogStoreError) -> T) throws(LogStoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw .closed }
        return try body()
    }

    public var logEndOffset: Int64 { lock.withLock { segments.last!.nextOffset } }
    public var logStartOffset: Int64 { lock.withLock { logStart } }
    /// On a single-node site every appended batch is committed once it is in the page cache.
    public var highWatermark: Int64 { logEndOffset }
    public var sizeInBytes: Int { lock.withLock { segments.reduce(0) { $0 + $1.size } } }
    public var segmentCount: Int { lock.withLock { segments.count } }
    public var currentConfig: LogConfig { lock.withLock { config } }

    public func update(config newConfig: LogConfig) {
        lock.withLock { config = newConfig }
    }

    /// Validates the batches of a produce request as Kafka's broker does, assigns their offsets
    /// by patching headers, and appends them. Records are never decoded.
    public func append(_ records: ByteBuffer, nowMs: Int64) throws(LogStoreError) -> AppendResult {
        let set: RecordSet
        do {
            set = try RecordSet(records)
        } catch {
            throw .corruptBatch("\(error)")
        }
        guard set.truncatedTailBytes == 0 else { throw .corruptBatch("partial batch at the end of the records") }
        var views: [RecordBatchView] = []
        for entry in set.entries {
            guard case .batch(let view) = entry else { throw .invalidRecord("record format older than v2 (magic 0/1)") }
            views.append(view)
        }
        guard !views.isEmpty else { throw .invalidRecord("no record batch") }
        return try withLock { () throws(LogStoreError) -> AppendResult in
            let config = self.config
            for view in views {
                guard view.sizeInBytes <= config.maxMessageBytes else {
                    throw .messageTooLarge(size: view.sizeInBytes, limit: config.maxMessageBytes)
                }
                guard view.magic == 2 else { throw .invalidRecord("magic \(view.magic)") }
                guard view.crc == view.computeChecksum() else { throw .corruptBatch("CRC mismatch") }
                do {
                    try view.validate()
                } catch {
                    throw .invalidRecord("\(error)")
                }
                guard !view.attributes.isControl else { throw .invalidRecord("clients may not write control batches") }
                guard view.recordCount > 0 else { throw .invalidRecord("empty batch") }
                // As Kafka's LogValidator: every record's framing, before anything is stored, so
                // no consumer or mirror ever meets a batch it cannot read.
                var keyless = false
                do throws(KafkaCodecError) {
                    try RecordWalk.forEachRecord(in: view, decompressionLimit: config.decompressionLimit) { entry in
                        keyless = keyless || !entry.hasKey
                        return true
                    }
                } catch .compressionUnavailable(let why) {
                    throw .corruptBatch(why)
                } catch {
                    throw .invalidRecord("\(error)")
                }
                if config.compact && keyless {
                    throw .invalidRecord("Compacted topic cannot accept message without key")
                }
                if !config.logAppendTime {
                    let timestamp = view.maxTimestamp
                    if timestamp >= 0 && (nowMs - timestamp > config.timestampBeforeMaxMs || timestamp - nowMs > config.timestampAfterMaxMs) {
                        throw .invalidTimestamp("timestamp \(timestamp) is too far from the broker's time \(nowMs)")
                    }
                }
            }
            // Check every batch's producer sequence before writing any, as Kafka does.
            var producerState = producers
            var next = segments.last!.nextOffset
            var plan: [(view: RecordBatchView, duplicate: ProducerStateEntry.BatchMetadata?)] = []
            for view in views {
                let lastSequence = view.baseSequence &+ view.lastOffsetDelta
                switch try producerState.check(producerId: view.producerId, epoch: view.producerEpoch,
                                               firstSequence: view.baseSequence, lastSequence: lastSequence) {
                case .duplicate(let original):
                    plan.append((view, original))
                case .append:
                    let last = next + Int64(view.lastOffsetDelta)
                    producerState.update(producerId: view.producerId, epoch: view.producerEpoch, firstSequence: view.baseSequence,
                                         lastSequence: lastSequence, firstOffset: next, lastOffset: last,
                                         timestamp: config.logAppendTime ? nowMs : view.maxTimestamp)
                    plan.append((view, nil))
                    next = last + 1
                }
            }
            let first = plan.first.flatMap { $0.duplicate?.firstOffset } ?? segments.last!.nextOffset
            if plan.contains(where: { $0.duplicate == nil }) && epochs.latestEpoch != leaderEpoch {
                try epochs.assign(epoch: leaderEpoch, startOffset: segments.last!.nextOffset)
            }
            next = segments.last!.nextOffset
            var lastWritten = next - 1
            var messages: Int64 = 0
            for (original, duplicate) in plan {
                if let duplicate {
                    lastWritten = max(lastWritten, duplicate.lastOffset)
                    continue
                }
                var view = original
                view.setBaseOffset(next)
                view.setPartitionLeaderEpoch(leaderEpoch)
                if config.logAppendTime { view.setLogAppendTime(nowMs) }
                var active = segments.last!
                if !active.canAppend(bytes: view.sizeInBytes, lastOffset: view.lastOffset, config: config, nowMs: nowMs) {
                    active = try roll(at: next, nowMs: nowMs)
                }
                try active.append(view, indexIntervalBytes: config.indexIntervalBytes)
                if view.attributes.isTransactional {
                    transactions.dataAppended(producerId: view.producerId, baseOffset: view.baseOffset)
                }
                next = view.lastOffset + 1
                lastWritten = view.lastOffset
                messages += Int64(view.recordCount)
            }
            producers = producerState
            unflushedMessages += messages
            if unflushedMessages >= config.flushMessages || nowMs - lastFlushMs >= config.flushMs {
                try flushLocked(nowMs: nowMs)
            }
            return AppendResult(baseOffset: first, lastOffset: lastWritten, logAppendTime: config.logAppendTime ? nowMs : -1, logStartOffset: logStart)
        }
    }

    private func roll(at offset: Int64, nowMs: Int64) throws(LogStoreError) -> LogSegment {
        let previous = segments.last!
        if previous.size == 0 && previous.baseOffset == offset { return previous }
        try previous.flush()
        previous.closeFiles()
        let segment = try LogSegment(directory: directory, baseOffset: offset, nowMs: nowMs)
        segments.append(segment)
        return segment
    }

    /// File ranges rather than bytes: what zero-copy Fetch sends.
    public struct SliceResult: Sendable {
        public var slice: FileSlice?
        public var highWatermark: Int64
        public var lastStableOffset: Int64
        public var logStartOffset: Int64
    }

    /// The file range of whole batches from `offset`, up to `maxBytes` (at least one batch with
    /// `minOneBatch`, KIP-74); batches straddling a DeleteRecords start are served whole.
    /// With `committedOnly` (read_committed), nothing at or past the last stable offset.
    public func readSlice(from offset: Int64, maxBytes: Int, minOneBatch: Bool = true, committedOnly: Bool = false) throws(LogStoreError) -> SliceResult {
        try withLock { () throws(LogStoreError) -> SliceResult in
            let end = segments.last!.nextOffset
            let stable = transactions.lastStableOffset(highWatermark: end)
            let limit = committedOnly ? stable : Int64.max
            guard offset >= logStart, offset <= end else {
                throw .offsetOutOfRange(requested: offset, logStart: logStart, logEnd: end)
            }
            var slice: FileSlice?
            if offset < end {
                let index = segments.lastIndex { $0.baseOffset <= offset } ?? 0
                for segment in segments[index...] {
                    if let found = try segment.slice(from: max(offset, segment.baseOffset), maxBytes: maxBytes, minOneBatch: minOneBatch, endOffset: limit) {
                        slice = found
                        break
                    }
                }
                if index < segments.count - 1 { segments[index].closeFiles() }
            }
            return SliceResult(slice: slice, highWatermark: end, lastStableOffset: stable, logStartOffset: logStart)
        }
    }

    /// Reads from `offset`: whole batches up to `maxBytes` (at least one with `minOneBatch`),
    /// copied into memory (the broker's coordinators, tests; Fetch sends `readSlice` ranges).
    public func read(from offset: Int64, maxBytes: Int, minOneBatch: Bool = true) throws(LogStoreError) -> ReadResult {
        let result = try readSlice(from: offset, maxBytes: maxBytes, minOneBatch: minOneBatch)
        var records: ByteBuffer?
        if let slice = result.slice { records = ByteBuffer(bytes: try slice.read()) }
        return ReadResult(records: records, highWatermark: result.highWatermark, logStartOffset: result.logStartOffset)
    }

    /// Writes a transaction marker (a control batch, KIP-98) for the producer's open
    /// transaction: COMMIT makes its records visible to read_committed consumers, ABORT hides
    /// them. Only the broker writes markers (clients may not produce control batches).
    @discardableResult
    public func appendMarker(producerId: Int64, producerEpoch: Int16, type: ControlRecord.ControlType, coordinatorEpoch: Int32, nowMs: Int64) throws(LogStoreError) -> Int64 {
        var view: RecordBatchView
        do throws(KafkaCodecError) {
            view = try RecordBatchView(bytes: RecordBatch(
                attributes: RecordBatchAttributes(isTransactional: true, isControl: true), baseTimestamp: nowMs,
                producerId: producerId, producerEpoch: producerEpoch, baseSequence: -1,
                records: [ControlRecord(type: type, coordinatorEpoch: coordinatorEpoch).record()]).encoded())
        } catch {
            throw .corruptBatch("marker: \(error)")
        }
        return try withLock { () throws(LogStoreError) -> Int64 in
            if let current = producers.producers[producerId]?.epoch, current > producerEpoch {
                throw .invalidProducerEpoch("marker epoch \(producerEpoch) of producer \(producerId) is older than \(current)")
            }
            let offset = segments.last!.nextOffset
            if epochs.latestEpoch != leaderEpoch { try epochs.assign(epoch: leaderEpoch, startOffset: offset) }
            view.setBaseOffset(offset)
            view.setPartitionLeaderEpoch(leaderEpoch)
            var active = segments.last!
            if !active.canAppend(bytes: view.sizeInBytes, lastOffset: offset, config: config, nowMs: nowMs) {
                active = try roll(at: offset, nowMs: nowMs)
            }
            try active.append(view, indexIntervalBytes: config.indexIntervalBytes)
            if let entry = transactions.markerAppended(producerId: producerId, type: type, offset: offset, highWatermark: offset + 1) {
                try active.appendAborted(entry)
            }
            return offset
        }
    }

    /// The offset below which every transaction is decided (KIP-98); the high watermark when
    /// none is open.
    public var lastStableOffset: Int64 {
        lock.withLock { transactions.lastStableOffset(highWatermark: segments.last!.nextOffset) }
    }

    /// Aborted transactions with records in `[from, to)`, from the indexes of the segment holding
    /// `from` and all later ones: a marker is never before the data it ends, but may lie past `to`
    /// when another open transaction holds the stable offset back.
    public func abortedTransactions(from: Int64, to: Int64) -> [(producerId: Int64, firstOffset: Int64)] {
        lock.withLock {
            let first = segments.lastIndex { $0.baseOffset <= from } ?? 0
            return segments[first...].flatMap { segment in
                segment.abortedTransactions().aborted(from: from, to: to).map { ($0.producerId, $0.firstOffset) }
            }
        }
    }

    /// Forgets idempotent producers idle for `expirationMs` (`producer.id.expiration.ms`).
    @discardableResult
    public func expireProducers(nowMs: Int64, expirationMs: Int64) -> Int {
        lock.withLock { producers.expire(olderThan: nowMs - expirationMs, keeping: transactions.openProducers) }
    }

    /// The idempotent producers this partition has state for (DescribeProducers).
    public struct ProducerDescription: Sendable, Equatable {
        public var producerId: Int64
        public var epoch: Int16
        public var lastSequence: Int32
        public var lastTimestamp: Int64
    }

    public func activeProducers() -> [ProducerDescription] {
        lock.withLock {
            producers.producers.sorted { $0.key < $1.key }.map { id, entry in
                ProducerDescription(producerId: id, epoch: entry.epoch, lastSequence: entry.lastSequence ?? -1, lastTimestamp: entry.lastTimestamp)
            }
        }
    }

    /// ListOffsets by timestamp: the first offset whose timestamp is at least `timestamp`.
    public func offset(forTimestamp timestamp: Int64) throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        try withLock { () throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? in
            for segment in segments where segment.maxTimestamp >= timestamp {
                if let found = try segment.offset(forTimestamp: timestamp), found.offset >= logStart { return found }
            }
            return nil
        }
    }

    /// ListOffsets with MAX_TIMESTAMP (-3): the offset carrying the largest timestamp.
    public func maxTimestampOffset() throws(LogStoreError) -> (offset: Int64, timestamp: Int64)? {
        try withLock {
            let best = segments.filter { $0.maxTimestamp >= 0 }.max { $0.maxTimestamp < $1.maxTimestamp }
            return best.map { ($0.offsetOfMaxTimestamp, $0.maxTimestamp) }
        }
    }

    /// OffsetForLeaderEpoch, answered from the epoch cache.
    public func endOffset(forLeaderEpoch epoch: Int32) throws(LogStoreError) -> (epoch: Int32, endOffset: Int64)? {
        try withLock { epochs.endOffset(for: epoch, logEndOffset: segments.last!.nextOffset) }
    }

    /// DeleteRecords: moves the log start offset forward (never back) and removes segments wholly
    /// below it. Returns the new log start offset.
    @discardableResult
    public func deleteRecords(before offset: Int64) throws(LogStoreError) -> Int64 {
        try withLock { () throws(LogStoreError) -> Int64 in
            let end = segments.last!.nextOffset
            guard offset <= end, offset >= 0 else { throw .offsetOutOfRange(requested: offset, logStart: logStart, logEnd: end) }
            if offset > logStart {
                logStart = offset
                try FileSystem.writeTextAtomically("\(offset)\n", to: directory + "/log-start-offset")
                try epochs.truncate(beforeOffset: offset)
                try dropSegments { $0.nextOffset <= offset }
            }
            return logStart
        }
    }

    /// Deletes whole segments past `retention.ms` (by their largest timestamp) or beyond
    /// `retention.bytes`, never the active one. Returns how many were deleted.
    @discardableResult
    public func enforceRetention(nowMs: Int64) throws(LogStoreError) -> Int {
        try withLock { () throws(LogStoreError) -> Int in
            guard config.deleteOnRetention else { return 0 }
            let before = segments.count
            if config.retentionMs >= 0 {
                try dropSegments { $0.maxTimestamp >= 0 && nowMs - $0.maxTimestamp > self.config.retentionMs }
            }
            if config.retentionBytes >= 0 {
                var total = Int64(segments.reduce(0) { $0 + $1.size })
                try dropSegments { segment in
                    guard total - Int64(segment.size) >= self.config.retentionBytes else { return false }
                    total -= Int64(segment.size)
                    return true
                }
            }
            return before - segments.count
        }
    }

    /// Compacts the eligible segments (see `LogCleaner`). Returns the number of segments rewritten.
    @discardableResult
    public func compact(nowMs: Int64) throws(LogStoreError) -> Int {
        try withLock { () throws(LogStoreError) -> Int in
            guard config.compact, segments.count > 1 else { return 0 }
            let eligible = segments.dropLast().filter { nowMs - max($0.maxTimestamp, 0) >= self.config.minCompactionLagMs }
            guard !eligible.isEmpty else { return 0 }
            let latest = try LogCleaner.latestOffsets(segments)
            let cleaner = LogCleaner(config: config, nowMs: nowMs)
            var rewritten = 0
            for segment in eligible {
                if let bytes = try cleaner.cleaned(segment, latest: latest) {
                    try segment.replace(with: bytes, indexIntervalBytes: config.indexIntervalBytes)
                    rewritten += 1
                }
                segment.closeFiles()
            }
            return rewritten
        }
    }

    /// Removes leading inactive segments while `shouldDrop` holds, then advances the log start.
    private func dropSegments(_ shouldDrop: (LogSegment) -> Bool) throws(LogStoreError) {
        var dropped = false
        while segments.count > 1, shouldDrop(segments[0]) {
            segments.removeFirst().delete()
            dropped = true
        }
        if dropped && segments[0].baseOffset > logStart {
            logStart = segments[0].baseOffset
            try FileSystem.writeTextAtomically("\(logStart)\n", to: directory + "/log-start-offset")
            try epochs.truncate(beforeOffset: logStart)
        }
    }

    public func flush(nowMs: Int64) throws(LogStoreError) {
        try withLock { () throws(LogStoreError) in try flushLocked(nowMs: nowMs) }
    }

    /// `flush.ms`: called periodically by the owner.
    public func flushIfDue(nowMs: Int64) throws(LogStoreError) {
        try withLock { () throws(LogStoreError) in
            if unflushedMessages > 0 && nowMs - lastFlushMs >= config.flushMs { try flushLocked(nowMs: nowMs) }
        }
    }

    private func flushLocked(nowMs: Int64) throws(LogStoreError) {
        try segments.last!.flush()
        unflushedMessages = 0
        lastFlushMs = nowMs
        let end = segments.last!.nextOffset
        if end != recoveryPoint {
            recoveryPoint = end
            try FileSystem.writeTextAtomically("\(end)\n", to: directory + "/recovery-point")
        }
    }

    /// Flushes, snapshots the producer state and releases files; the log refuses further use.
    public func close() throws(LogStoreError) {
        try withLock { () throws(LogStoreError) in
            try flushLocked(nowMs: lastFlushMs)
            try FileSystem.writeAtomically(ProducerStateSnapshot.encode(offset: segments.last!.nextOffset, producers: producers, transactions: transactions),
                                           to: directory + "/" + ProducerStateSnapshot.fileName)
            for segment in segments { segment.closeFiles() }
            closed = true
        }
    }

    /// Closes and removes the partition directory (DeleteTopics).
    public func delete() {
        lock.withLock {
            for segment in segments { segment.closeFiles() }
            closed = true
        }
        FileSystem.removeTree(directory)
    }
}
