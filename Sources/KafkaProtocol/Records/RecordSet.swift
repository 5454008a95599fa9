import NIOCore

/// The `records` bytes of a Produce request or Fetch response, split into entries.
///
/// Magic 2 entries are record batches; magic 0 and 1 entries are legacy messages (old clusters,
/// old clients). A fetch response may end in part of a batch (the broker cuts at `max.bytes`);
/// that tail is recognised by its length running past the end and reported in
/// `truncatedTailBytes`, never decoded.
public struct RecordSet: Sendable {
    public enum Entry: Sendable {
        case batch(RecordBatchView)
        case legacy(LegacyMessage)
    }

    public private(set) var entries: [Entry] = []
    /// Bytes at the end that are only the start of an entry.
    public private(set) var truncatedTailBytes = 0

    /// Splits `buffer` into entries. Only the entry boundaries and magic bytes are read here.
    public init(_ buffer: ByteBuffer) throws(KafkaCodecError) {
        var rest = buffer
        while rest.readableBytes > 0 {
            guard rest.readableBytes >= RecordBatch.logOverhead + 5,
                  let length = rest.getInteger(at: rest.readerIndex + 8, as: Int32.self) else {
                truncatedTailBytes = rest.readableBytes
                break
            }
            guard length >= 0 else { throw .invalidLength(field: "batch length", length: Int64(length)) }
            let total = Int(length) + RecordBatch.logOverhead
            guard total <= rest.readableBytes else {
                truncatedTailBytes = rest.readableBytes
                break
            }
            let magic = rest.getInteger(at: rest.readerIndex + 16, as: Int8.self)!
            let entry = rest.readSlice(length: total)!
            switch magic {
            case 2:
                entries.append(.batch(try RecordBatchView(bytes: entry)))
            case 0, 1:
                entries.append(.legacy(try LegacyMessage(entry: entry)))
            default:
                throw .corrupt("unknown record magic \(magic)")
            }
        }
    }

    /// The record batches, in order (legacy entries skipped).
    public var batches: [RecordBatchView] {
        entries.compactMap { if case .batch(let view) = $0 { return view } else { return nil } }
    }
}
