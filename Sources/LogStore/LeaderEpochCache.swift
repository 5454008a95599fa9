/// Which leader epoch wrote which offsets of a partition (KIP-101, KIP-279).
///
/// File `leader-epoch-checkpoint` in the partition directory, Kafka's text layout: a line with
/// the format version (0), a line with the entry count, then one line per entry
/// "`<epoch> <startOffset>`", epochs and start offsets increasing. It is rewritten atomically
/// (temporary file, fsync, rename) whenever an epoch starts writing or the log is truncated.
struct LeaderEpochCache {
    struct Entry: Equatable {
        var epoch: Int32
        var startOffset: Int64
    }

    let path: String
    private(set) var entries: [Entry] = []
    /// The file was there but does not read as a checkpoint (a negative or impossible count, a
    /// bad line, epochs out of order): the partition rebuilds it from its batches rather than
    /// refuse to start.
    private(set) var damaged = false

    init(path: String) {
        self.path = path
        guard let text = FileSystem.readText(path) else { return }
        guard let entries = Self.parse(text) else {
            damaged = true
            return
        }
        self.entries = entries
    }

    /// The entries of a checkpoint's text, or nil when it is not one. Every count and number
    /// is checked before it is used: the file is read at start, and a start must not trap.
    static func parse(_ text: String) -> [Entry]? {
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.count >= 2, lines[0] == "0", let count = Int(lines[1]), count >= 0, count <= lines.count - 2 else { return nil }
        var entries: [Entry] = []
        for line in lines[2..<(2 + count)] {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let epoch = Int32(parts[0]), let start = Int64(parts[1]), epoch >= 0, start >= 0 else { return nil }
            if let last = entries.last, epoch <= last.epoch || start < last.startOffset { return nil }
            entries.append(Entry(epoch: epoch, startOffset: start))
        }
        return entries
    }

    /// Replaces the entries with ones rebuilt from the log, and writes the file again.
    mutating func rebuild(_ entries: [Entry]) throws(LogStoreError) {
        self.entries = entries
        damaged = false
        try persist()
    }

    var latestEpoch: Int32? { entries.last?.epoch }

    /// Records that `epoch` starts writing at `startOffset` (no-op for the current epoch).
    mutating func assign(epoch: Int32, startOffset: Int64) throws(LogStoreError) {
        if let last = entries.last, last.epoch >= epoch { return }
        entries.removeAll { $0.startOffset >= startOffset }
        entries.append(Entry(epoch: epoch, startOffset: startOffset))
        try persist()
    }

    /// Forgets epochs that started at or after `offset` (the log was truncated there).
    mutating func truncate(fromOffset offset: Int64) throws(LogStoreError) {
        let before = entries.count
        entries.removeAll { $0.startOffset >= offset }
        if entries.count != before { try persist() }
    }

    /// Drops entries wholly below the new log start, keeping the one that covers it.
    mutating func truncate(beforeOffset offset: Int64) throws(LogStoreError) {
        guard let index = entries.lastIndex(where: { $0.startOffset <= offset }), index > 0 else { return }
        entries.removeFirst(index)
        entries[0].startOffset = offset
        try persist()
    }

    /// OffsetForLeaderEpoch: the largest epoch not above `epoch` and the offset where it ended
    /// (the next epoch's start, or the log end for the latest). Nil when `epoch` predates the log.
    func endOffset(for epoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64)? {
        guard let index = entries.lastIndex(where: { $0.epoch <= epoch }) else { return nil }
        let end = index + 1 < entries.count ? entries[index + 1].startOffset : logEndOffset
        return (entries[index].epoch, end)
    }

    private func persist() throws(LogStoreError) {
        var text = "0\n\(entries.count)\n"
        for entry in entries { text += "\(entry.epoch) \(entry.startOffset)\n" }
        try FileSystem.writeTextAtomically(text, to: path)
    }
}
