import KafkaProtocol
import NIOCore

/// `producer-state.snapshot` in the partition directory: the producer state and open
/// transactions as of a clean shutdown, so the next clean start need not walk every batch header
/// (aborted transactions are in the segments' `.txnindex` files).
///
/// Format (big-endian): version INT16 (2), log end offset INT64 at the snapshot; producers
/// INT32 count of (producer id INT64, epoch INT16, last timestamp INT64, batches INT8 count of
/// (first sequence INT32, last sequence INT32, first offset INT64, last offset INT64)); open
/// transactions INT32 count of (producer id INT64, first offset INT64); then the CRC32C
/// UINT32 of everything before it. A snapshot whose offset is not the log end, or whose CRC
/// fails, is ignored and the state is rebuilt from the log.
enum ProducerStateSnapshot {
    static let fileName = "producer-state.snapshot"

    static func encode(offset: Int64, producers: ProducerStateManager, transactions: OngoingTransactions) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int16(2))
        buffer.writeInteger(offset)
        buffer.writeInteger(Int32(producers.producers.count))
        for (id, entry) in producers.producers.sorted(by: { $0.key < $1.key }) {
            buffer.writeInteger(id)
            buffer.writeInteger(entry.epoch)
            buffer.writeInteger(entry.lastTimestamp)
            buffer.writeInteger(Int8(entry.batches.count))
            for batch in entry.batches {
                buffer.writeInteger(batch.firstSequence)
                buffer.writeInteger(batch.lastSequence)
                buffer.writeInteger(batch.firstOffset)
                buffer.writeInteger(batch.lastOffset)
            }
        }
        buffer.writeInteger(Int32(transactions.firstOffsets.count))
        for (id, first) in transactions.firstOffsets.sorted(by: { $0.key < $1.key }) {
            buffer.writeInteger(id)
            buffer.writeInteger(first)
        }
        buffer.writeInteger(CRC32C.checksum(buffer))
        return buffer
    }

    /// The state, if `bytes` is an intact snapshot taken at `logEndOffset`.
    static func decode(_ bytes: ByteBuffer, logEndOffset: Int64) -> (ProducerStateManager, OngoingTransactions)? {
        guard bytes.readableBytes >= 14 else { return nil }
        let body = bytes.getSlice(at: bytes.readerIndex, length: bytes.readableBytes - 4)!
        guard CRC32C.checksum(body) == bytes.getInteger(at: bytes.writerIndex - 4, as: UInt32.self) else { return nil }
        var buffer = body
        guard buffer.readInteger(as: Int16.self) == 2, buffer.readInteger(as: Int64.self) == logEndOffset else { return nil }
        do throws(KafkaCodecError) {
            var producers: [Int64: ProducerStateEntry] = [:]
            for _ in 0..<(try count(&buffer, minimumSize: 19)) {
                let id: Int64 = try buffer.readKafkaInteger("producer id")
                var entry = ProducerStateEntry(epoch: try buffer.readKafkaInteger("epoch"))
                entry.lastTimestamp = try buffer.readKafkaInteger("last timestamp")
                let batches: Int8 = try buffer.readKafkaInteger("batches")
                for _ in 0..<max(0, Int(batches)) {
                    entry.record(.init(firstSequence: try buffer.readKafkaInteger("first sequence"), lastSequence: try buffer.readKafkaInteger("last sequence"),
                                       firstOffset: try buffer.readKafkaInteger("first offset"), lastOffset: try buffer.readKafkaInteger("last offset")))
                }
                producers[id] = entry
            }
            var ongoing: [Int64: Int64] = [:]
            for _ in 0..<(try count(&buffer, minimumSize: 16)) {
                ongoing[try buffer.readKafkaInteger("producer id")] = try buffer.readKafkaInteger("first offset")
            }
            guard buffer.readableBytes == 0 else { return nil }
            return (ProducerStateManager(producers: producers), OngoingTransactions(firstOffsets: ongoing))
        } catch {
            return nil
        }
    }

    private static func count(_ buffer: inout ByteBuffer, minimumSize: Int) throws(KafkaCodecError) -> Int {
        let count = Int(try buffer.readKafkaInteger("count", as: Int32.self))
        guard count >= 0, count <= buffer.readableBytes / minimumSize else { throw .invalidLength(field: "count", length: Int64(count)) }
        return count
    }
}
