import NIOCore

/// The aborted-transaction index of one segment (`<baseOffset>.txnindex`, Kafka's layout): the
/// transactions whose ABORT marker lies in this segment, which `read_committed` consumers skip.
///
/// File format: a sequence of 34-byte entries, big-endian: version INT16 (0), producer id INT64,
/// first offset INT64 (the transaction's first record, possibly in an earlier segment), last
/// offset INT64 (the marker's offset), last stable offset INT64 (the partition's LSO once the
/// marker was written). Entries are appended in marker order. A trailing partial entry is what a
/// crash leaves and is ignored; an unclean start rebuilds the index from the log anyway.
struct TransactionIndex: Equatable {
    static let entrySize = 34

    struct AbortedTxn: Equatable, Sendable {
        var producerId: Int64
        var firstOffset: Int64
        var lastOffset: Int64
        var lastStableOffset: Int64
    }

    private(set) var entries: [AbortedTxn] = []

    init(entries: [AbortedTxn] = []) {
        self.entries = entries
    }

    /// Parses an index file's bytes, up to the first partial or unknown-version entry.
    init(bytes: ByteBuffer) {
        var buffer = bytes
        while buffer.readableBytes >= Self.entrySize, buffer.readInteger(as: Int16.self) == 0 {
            entries.append(AbortedTxn(producerId: buffer.readInteger()!, firstOffset: buffer.readInteger()!,
                                      lastOffset: buffer.readInteger()!, lastStableOffset: buffer.readInteger()!))
        }
    }

    var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        for entry in entries { Self.write(entry, to: &buffer) }
        return buffer
    }

    /// Adds an entry and returns its bytes, for the caller to append to the file.
    mutating func append(_ entry: AbortedTxn) -> ByteBuffer {
        entries.append(entry)
        var buffer = ByteBuffer()
        Self.write(entry, to: &buffer)
        return buffer
    }

    /// Entries of transactions with data in `[from, to)`.
    func aborted(from: Int64, to: Int64) -> [AbortedTxn] {
        entries.filter { $0.lastOffset >= from && $0.firstOffset < to }
    }

    private static func write(_ entry: AbortedTxn, to buffer: inout ByteBuffer) {
        buffer.writeInteger(Int16(0))
        buffer.writeInteger(entry.producerId)
        buffer.writeInteger(entry.firstOffset)
        buffer.writeInteger(entry.lastOffset)
        buffer.writeInteger(entry.lastStableOffset)
    }
}
