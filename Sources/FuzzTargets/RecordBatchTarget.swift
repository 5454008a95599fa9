import KafkaClient
import KafkaProtocol
import NIOCore

/// Fuzz target: bytes as the records of a Produce partition or a Fetch answer, through the
/// broker's append check (`RecordWalk`), the codec's decoder and the consumer's decoder.
///
/// Every batch's CRC is recomputed first, since a mutated batch would otherwise stop at the
/// checksum and the records behind it would never be reached. The walk and the decoder must
/// agree on whether a batch is readable and how many records it holds: a disagreement means one
/// of them lets through what the other refuses, and traps so the fuzzer reports it.
public struct RecordBatchTarget: FuzzTarget {
    /// Small, so that expansion paths are reached quickly and one input stays cheap.
    static let decompressionLimit = 1 << 20

    public init() {}

    public func run(_ input: UnsafeRawBufferPointer) {
        var records = ByteBuffer(bytes: input)
        Self.fixChecksums(&records)
        if let set = try? RecordSet(records) {
            for batch in set.batches { Self.compare(batch) }
            for case .legacy(let message) in set.entries { _ = try? message.flattened() }
        }
        for isolation in [ConsumerConfig.IsolationLevel.readUncommitted, .readCommitted] {
            let data = FetchResponse.PartitionData(partitionIndex: 0, highWatermark: 1 << 40, lastStableOffset: 1 << 40, logStartOffset: 0,
                                                   abortedTransactions: [.init(producerId: 1, firstOffset: 0)], records: records)
            let decoder = FetchedPartitionDecoder(isolationLevel: isolation, checkCRCs: true)
            if case .success(let fetch?) = decoder.decode(TopicPartition("fuzz", 0), position: 0, data) {
                _ = try? fetch.records()
            }
        }
    }

    static func compare(_ batch: RecordBatchView) {
        var walked: Int? = 0
        do {
            try RecordWalk.forEachRecord(in: batch, consecutiveOffsets: false, decompressionLimit: decompressionLimit) { _ in
                walked! += 1
                return true
            }
        } catch {
            walked = nil
        }
        let decoded = try? batch.decodeRecords(decompressionLimit: decompressionLimit).count
        if walked != decoded {
            fatalError("RecordWalk read \(walked.map(String.init) ?? "an error") where decodeRecords read \(decoded.map(String.init) ?? "an error")")
        }
        _ = try? batch.validate()
    }

    /// Rewrites the CRC of every whole v2 batch in place.
    static func fixChecksums(_ records: inout ByteBuffer) {
        var position = records.readerIndex
        while let length = records.getInteger(at: position + 8, as: Int32.self), length >= 0,
              position + RecordBatch.logOverhead + Int(length) <= records.writerIndex {
            let total = RecordBatch.logOverhead + Int(length)
            if records.getInteger(at: position + 16, as: Int8.self) == 2, total >= RecordBatch.headerSize,
               let view = try? RecordBatchView(bytes: records.getSlice(at: position, length: total)!) {
                records.setInteger(view.computeChecksum(), at: position + RecordBatch.crcOffset)
            }
            position += total
        }
    }
}
