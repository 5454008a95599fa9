import NIOCore

/// The sparse offset index of one segment (`<baseOffset>.index`).
///
/// File format: a sequence of 8-byte entries, big-endian: relative offset UINT32 (a batch's base
/// offset minus the segment's base offset), then the byte position UINT32 of that batch in the
/// `.log` file. Entries are appended every `index.interval.bytes` of log, so offsets and
/// positions both increase strictly. A trailing partial entry, or entries pointing past the end
/// of the log, are what a crash leaves: recovery rebuilds the index from the log.
struct OffsetIndex {
    static let entrySize = 8

    private(set) var relativeOffsets: [UInt32] = []
    private(set) var positions: [UInt32] = []

    var count: Int { relativeOffsets.count }
    var lastEntry: (relativeOffset: UInt32, position: UInt32)? {
        guard let offset = relativeOffsets.last, let position = positions.last else { return nil }
        return (offset, position)
    }

    init() {}

    /// Parses an index file's bytes; nil when they are not a valid index for a log of `logSize` bytes.
    init?(bytes: ByteBuffer, logSize: Int) {
        guard bytes.readableBytes % Self.entrySize == 0 else { return nil }
        var buffer = bytes
        while let offset = buffer.readInteger(as: UInt32.self), let position = buffer.readInteger(as: UInt32.self) {
            if let last = relativeOffsets.last, offset <= last || position <= positions.last! { return nil }
            if Int(position) >= logSize { return nil }
            relativeOffsets.append(offset)
            positions.append(position)
        }
    }

    mutating func append(relativeOffset: UInt32, position: UInt32) -> ByteBuffer {
        relativeOffsets.append(relativeOffset)
        positions.append(position)
        var entry = ByteBuffer()
        entry.writeInteger(relativeOffset)
        entry.writeInteger(position)
        return entry
    }

    /// Position of the last indexed batch whose base offset is at most `relativeOffset` (0 if none).
    func lookup(_ relativeOffset: UInt32) -> Int {
        var low = 0
        var high = relativeOffsets.count - 1
        var found = 0
        while low <= high {
            let middle = (low + high) / 2
            if relativeOffsets[middle] <= relativeOffset {
                found = Int(positions[middle])
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found
    }
}
