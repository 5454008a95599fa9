import NIOCore

/// The sparse time index of one segment (`<baseOffset>.timeindex`).
///
/// File format: 12-byte entries, big-endian: timestamp INT64, the largest batch max-timestamp
/// seen so far in the segment, then relative offset UINT32 of the batch that carried it.
/// Entries are appended with the offset index, and only when the timestamp grew, so both
/// columns increase. Used for ListOffsets by timestamp and for time-based retention.
struct TimeIndex {
    static let entrySize = 12

    private(set) var timestamps: [Int64] = []
    private(set) var relativeOffsets: [UInt32] = []

    var count: Int { timestamps.count }

    init() {}

    init?(bytes: ByteBuffer) {
        guard bytes.readableBytes % Self.entrySize == 0 else { return nil }
        var buffer = bytes
        while let timestamp = buffer.readInteger(as: Int64.self), let offset = buffer.readInteger(as: UInt32.self) {
            if let last = timestamps.last, timestamp <= last || offset < relativeOffsets.last! { return nil }
            timestamps.append(timestamp)
            relativeOffsets.append(offset)
        }
    }

    /// Appends an entry if `timestamp` exceeds the last one; returns the bytes to write.
    mutating func append(timestamp: Int64, relativeOffset: UInt32) -> ByteBuffer? {
        if let last = timestamps.last, timestamp <= last { return nil }
        timestamps.append(timestamp)
        relativeOffsets.append(relativeOffset)
        var entry = ByteBuffer()
        entry.writeInteger(timestamp)
        entry.writeInteger(relativeOffset)
        return entry
    }

    /// Relative offset to start scanning from for the first record with timestamp >= `target`:
    /// that of the last entry whose timestamp is below the target (0 if none).
    func lookup(_ target: Int64) -> UInt32 {
        var found: UInt32 = 0
        for (index, timestamp) in timestamps.enumerated() {
            if timestamp < target { found = relativeOffsets[index] } else { break }
        }
        return found
    }
}
