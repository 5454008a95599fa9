import KafkaProtocol
import NIOCore

/// Records for one partition that travel together: built record by record while open, then
/// sealed, given a producer sequence (idempotence) when first drained, and kept with that
/// sequence across retries so the broker can drop duplicates.
///
/// `@unchecked Sendable`: a batch is changed only under the producer's lock, or by the one send
/// task that holds it between `drain` and `settle`.
final class ProducerBatch: @unchecked Sendable {
    typealias Callback = @Sendable (Result<RecordMetadata, KafkaClientError>) -> Void

    let topicPartition: TopicPartition
    let createdAt: NIODeadline
    private(set) var builder: RecordBatchBuilder?
    /// A batch handed over whole (the mirror's forwarded batches), sealed from the start.
    private(set) var prebuilt: RecordBatchView?
    private(set) var callbacks: [(index: Int32, timestamp: Int64, callback: Callback)] = []
    private(set) var recordCount: Int32
    /// Bytes counted against `buffer.memory`.
    private(set) var bufferedBytes: Int
    var sealed = false
    var baseSequence: Int32?
    var attempts = 0
    /// The batch as sent: built once, at its first send, and patched if its producer fields change.
    private var encoded: ByteBuffer?
    private var encodedProducer: (id: Int64, epoch: Int16, sequence: Int32)?

    init(topicPartition: TopicPartition, timestamp: Int64, createdAt: NIODeadline, capacity: Int) {
        self.topicPartition = topicPartition
        self.createdAt = createdAt
        builder = RecordBatchBuilder(baseTimestamp: timestamp, capacity: capacity)
        recordCount = 0
        bufferedBytes = RecordBatch.headerSize
    }

    init(topicPartition: TopicPartition, prebuilt: RecordBatchView, createdAt: NIODeadline, callback: Callback?) {
        self.topicPartition = topicPartition
        self.createdAt = createdAt
        self.prebuilt = prebuilt
        recordCount = prebuilt.recordCount
        bufferedBytes = prebuilt.sizeInBytes
        sealed = true
        if let callback { callbacks = [(0, prebuilt.baseTimestamp, callback)] }
    }

    var sizeInBytes: Int { builder?.sizeInBytes ?? bufferedBytes }

    /// Whether a record of about `size` bytes still fits under `batch.size` (a first record always does).
    func hasRoom(for size: Int, batchSize: Int) -> Bool {
        !sealed && (recordCount == 0 || sizeInBytes + size <= batchSize)
    }

    func append(_ record: ProducerRecord, timestamp: Int64, callback: Callback?) {
        let before = builder!.sizeInBytes
        builder!.append(timestamp: timestamp, key: record.key, value: record.value, headers: record.headers)
        bufferedBytes += builder!.sizeInBytes - before
        if let callback { callbacks.append((recordCount, timestamp, callback)) }
        recordCount += 1
    }

    /// The bytes to send, built (and compressed) at the first send. The producer fields are
    /// written then, since the sequence is only known once the batch is drained, and patched
    /// (with a new CRC) if they change before a retry.
    func encode(compression: CompressionCodec, producerId: Int64, producerEpoch: Int16) throws(KafkaCodecError) -> ByteBuffer {
        let sequence = baseSequence ?? -1
        if let encoded, let current = encodedProducer, current == (producerId, producerEpoch, sequence) { return encoded }
        var view: RecordBatchView
        if let encoded {
            view = try RecordBatchView(bytes: encoded)
        } else if let prebuilt {
            view = prebuilt
        } else {
            let built = try builder!.build(attributes: RecordBatchAttributes(compression: compression), producerId: producerId,
                                           producerEpoch: producerEpoch, baseSequence: sequence)
            builder = nil
            encoded = built
            encodedProducer = (producerId, producerEpoch, sequence)
            return built
        }
        var attributes = view.attributes
        attributes.isTransactional = false
        view.setProducer(id: producerId, epoch: producerEpoch, baseSequence: sequence, attributes: attributes)
        encoded = view.bytes
        encodedProducer = (producerId, producerEpoch, sequence)
        return view.bytes
    }

    func complete(baseOffset: Int64, logAppendTime: Int64) {
        for (index, timestamp, callback) in callbacks {
            let offset = baseOffset < 0 ? -1 : baseOffset + Int64(index)
            callback(.success(RecordMetadata(topicPartition: topicPartition, offset: offset,
                                             timestamp: logAppendTime >= 0 ? logAppendTime : timestamp)))
        }
        callbacks = []
    }

    func fail(_ error: KafkaClientError) {
        for (_, _, callback) in callbacks { callback(.failure(error)) }
        callbacks = []
    }
}
