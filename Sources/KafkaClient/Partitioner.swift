import NIOCore

/// Chooses partitions as Java's default partitioner does, so Strait's producer and
/// librdkafka's `murmur2_random` put the same key in the same partition: a keyed record goes to
/// `murmur2(key) & 0x7fffffff % partitions`; a record without a key goes to the topic's current
/// sticky partition (KIP-480), which changes when a batch for it is sent.
struct Partitioner {
    private var sticky: [String: Int32] = [:]
    /// The last topic asked about and its sticky partition, which saves hashing the name for
    /// every keyless record.
    private var last: (topic: String, partition: Int32)?

    static func partition(forKey key: ByteBuffer, partitionCount: Int) -> Int32 {
        Int32(Int(murmur2(key) & 0x7fff_ffff) % partitionCount)
    }

    mutating func partition(topic: String, key: ByteBuffer?, partitionCount: Int) -> Int32 {
        if let key { return Self.partition(forKey: key, partitionCount: partitionCount) }
        if let last, last.topic == topic, last.partition < partitionCount { return last.partition }
        var chosen = sticky[topic] ?? -1
        if chosen < 0 || chosen >= partitionCount {
            chosen = Int32.random(in: 0..<Int32(partitionCount))
            sticky[topic] = chosen
        }
        last = (topic, chosen)
        return chosen
    }

    /// A batch for the topic's sticky partition was closed: later keyless records move on.
    mutating func batchClosed(topic: String, partition: Int32, partitionCount: Int) {
        guard sticky[topic] == partition, partitionCount > 1 else { return }
        var next = Int32.random(in: 0..<Int32(partitionCount - 1))
        if next >= partition { next += 1 }
        sticky[topic] = next
        last = nil
    }

    /// Kafka's murmur2 (seed 0x9747b28c), over the key's bytes read as little-endian words.
    static func murmur2(_ key: ByteBuffer) -> UInt32 {
        key.withUnsafeReadableBytes { bytes in
            let m: UInt32 = 0x5bd1_e995
            let length = bytes.count
            var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
            var i = 0
            while i + 4 <= length {
                var k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                k = k &* m
                k ^= k >> 24
                k = k &* m
                h = h &* m
                h ^= k
                i += 4
            }
            let tail = length & 3
            if tail == 3 { h ^= UInt32(bytes[i + 2]) << 16 }
            if tail >= 2 { h ^= UInt32(bytes[i + 1]) << 8 }
            if tail >= 1 {
                h ^= UInt32(bytes[i])
                h = h &* m
            }
            h ^= h >> 13
            h = h &* m
            h ^= h >> 15
            return h
        }
    }
}
