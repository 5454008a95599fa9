import KafkaProtocol
import LogStore
import NIOCore

/// Frames a Fetch response whose records stay in the segment files, so they can be sent with
/// sendfile instead of being copied through the broker.
///
/// The response-level and topic-level fields are written here; each partition is written by
/// the generated encoder with null records, which Kafka places last before the partition's
/// tagged fields. The null marker is then replaced by the slice's length and the slice follows.
/// The result is byte-for-byte what the generated encoder writes for the same records (tested).
enum ZeroCopyFetchFrame {
    static func parts(_ response: FetchResponse, slices: [[FileSlice?]], correlationId: Int32, version: Int16) throws(KafkaCodecError) -> [ResponsePart] {
        let flexible = FetchResponse.isFlexible(version)
        var parts: [ResponsePart] = []
        var out = ByteBuffer()
        out.writeInteger(Int32(0))
        ResponseHeader(correlationId: correlationId).encode(into: &out, headerVersion: flexible ? 1 : 0)
        out.writeInteger(response.throttleTimeMs)
        if version >= 7 {
            out.writeInteger(response.errorCode)
            out.writeInteger(response.sessionId)
        }
        out.writeKafkaArrayCount(response.responses.count, compact: flexible)
        for (topicIndex, topic) in response.responses.enumerated() {
            out.writeKafkaString(topic.topic, compact: flexible)
            out.writeKafkaArrayCount(topic.partitions.count, compact: flexible)
            for (partitionIndex, partition) in topic.partitions.enumerated() {
                guard let slice = slices[topicIndex][partitionIndex] else {
                    try partition.encode(into: &out, version: version)
                    continue
                }
                var data = partition
                data.records = nil
                try data.encode(into: &out, version: version)
                // Null records then (flexible) an empty tagged-field section: the last bytes.
                let tail = flexible ? 2 : 4
                let expected: [UInt8] = flexible ? [0, 0] : [0xFF, 0xFF, 0xFF, 0xFF]
                guard partition.unknownTaggedFields.isEmpty, out.getBytes(at: out.writerIndex - tail, length: tail) == expected else {
                    throw .corrupt("fetch partition does not end with null records")
                }
                out.moveWriterIndex(to: out.writerIndex - tail)
                if flexible {
                    out.writeUnsignedVarint(UInt32(slice.length + 1))
                } else {
                    out.writeInteger(Int32(slice.length))
                }
                parts.append(.bytes(out))
                parts.append(.file(slice))
                out = ByteBuffer()
                if flexible { out.writeInteger(UInt8(0)) }
            }
            if flexible { out.writeTaggedFields([], unknown: topic.unknownTaggedFields) }
        }
        if flexible { out.writeTaggedFields([], unknown: response.unknownTaggedFields) }
        parts.append(.bytes(out))
        guard let size = Int32(exactly: parts.reduce(0) { $0 + $1.length } - 4) else {
            throw .corrupt("fetch response exceeds the protocol's 2 GiB frame limit")
        }
        guard case .bytes(var first) = parts[0] else { throw .corrupt("fetch frame starts with a file") }
        first.setInteger(size, at: first.readerIndex)
        parts[0] = .bytes(first)
        return parts
    }
}
