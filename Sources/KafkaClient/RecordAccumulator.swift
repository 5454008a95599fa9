import KafkaProtocol
import NIOCore

/// The producer's state, without I/O: per-partition queues of batches, what is in flight,
/// sequence numbers, buffer accounting. The sender asks it what to send (`drain`) and tells it
/// how each batch ended (`completed`, `failed`); it answers with the callbacks to run, which the
/// caller runs outside the producer's lock.
///
/// Ordering with up to five requests in flight per connection rests on the broker's
/// idempotence checks (KIP-98): batches of a partition carry consecutive sequences and, once one
/// comes back for a retry, nothing more of that partition is sent until all its in-flight
/// batches have returned; then they go again in sequence order.
struct RecordAccumulator {
    /// A class, so a queue found in the dictionary is changed in place (no copy of its batches).
    final class PartitionQueue {
        let topicPartition: TopicPartition
        var batches: [ProducerBatch] = []
        var inFlight = 0
        var nextSequence: Int32 = 0
        /// A batch of this partition returned for a retry: send nothing until in-flight is 0.
        var retrying = false
        /// A batch at this sequence failed for good: batches from it on must be renumbered.
        var rewoundFrom: Int32?
        var retryAt: NIODeadline = .uptimeNanoseconds(0)

        init(_ topicPartition: TopicPartition) {
            self.topicPartition = topicPartition
        }
    }

    let config: ProducerConfig
    private(set) var queues: [TopicPartition: PartitionQueue] = [:]
    private var lastQueue: PartitionQueue?
    var partitioner = Partitioner()
    private(set) var bufferedBytes = 0
    /// Batches queued or in flight (what `flush` waits for).
    private(set) var pendingBatches = 0
    private var nodeInFlight: [Int32: Int] = [:]
    var producerId: Int64 = -1
    var producerEpoch: Int16 = -1

    init(config: ProducerConfig) {
        self.config = config
    }

    var isIdempotent: Bool { config.enableIdempotence }
    var hasRoom: Bool { bufferedBytes < config.bufferMemory }

    /// Appends a record to its partition's open batch (or a new one). Returns whether the sender
    /// should look again: a batch became full, or the partition had nothing queued.
    mutating func append(_ record: ProducerRecord, to topicPartition: TopicPartition, partitionCount: Int, timestamp: Int64,
                         callback: ProducerBatch.Callback?) -> Bool {
        let size = RecordBatchBuilder.estimatedRecordSize(keySize: record.key?.readableBytes, valueSize: record.value?.readableBytes, headers: record.headers)
        var wake = false
        let batch: ProducerBatch
        let queue = queue(topicPartition)
        if let last = queue.batches.last, last.hasRoom(for: size, batchSize: config.batchSize) {
            batch = last
        } else {
            if let last = queue.batches.last, !last.sealed { seal(last, partitionCount: partitionCount) }
            batch = ProducerBatch(topicPartition: topicPartition, timestamp: timestamp, createdAt: .now(), capacity: min(config.batchSize, 65536))
            wake = queue.batches.isEmpty
            queue.batches.append(batch)
            pendingBatches += 1
            bufferedBytes += batch.bufferedBytes
        }
        let before = batch.bufferedBytes
        batch.append(record, timestamp: timestamp, callback: callback)
        bufferedBytes += batch.bufferedBytes - before
        if batch.sizeInBytes >= config.batchSize {
            seal(batch, partitionCount: partitionCount)
            wake = true
        }
        return wake
    }

    /// Queues a batch that arrived whole.
    mutating func append(prebuilt batch: ProducerBatch) {
        if let last = queues[batch.topicPartition]?.batches.last, !last.sealed { last.sealed = true }
        queue(batch.topicPartition).batches.append(batch)
        pendingBatches += 1
        bufferedBytes += batch.bufferedBytes
    }

    private mutating func seal(_ batch: ProducerBatch, partitionCount: Int) {
        batch.sealed = true
        partitioner.batchClosed(topic: batch.topicPartition.topic, partition: batch.topicPartition.partition, partitionCount: partitionCount)
    }

    struct Drained {
        /// Batches to send, by leader node; at most one per partition per request.
        var requests: [(node: Int32, batches: [ProducerBatch])] = []
        /// When a lingering batch becomes ready, if nothing else wakes the sender first.
        var nextDeadline: NIODeadline?
        /// Partitions whose leader is unknown: metadata must be refreshed.
        var missingLeaders = false
        /// Batches past `delivery.timeout.ms`, failed here; run their callbacks.
        var expired: [ProducerBatch] = []
    }

    /// Takes the batches that are ready (full, lingered long enough, or flushing) from partitions
    /// that may send, within the in-flight limits, and numbers them for idempotence.
    mutating func drain(now: NIODeadline, flushing: Bool, leader: (TopicPartition) -> Int32?) -> Drained {
        var result = Drained()
        var byNode: [Int32: [ProducerBatch]] = [:]
        var requestBytes: [Int32: Int] = [:]
        for topicPartition in Array(queues.keys) {
            guard let queue = queues[topicPartition] else { continue }
            // Batches past `delivery.timeout.ms` fail here, unless one of the partition's is
            // in flight (its answer may still come, and order must hold).
            while queue.inFlight == 0, let head = queue.batches.first, now - head.createdAt > config.deliveryTimeout {
                queue.batches.removeFirst()
                result.expired.append(head)
                finish(head)
            }
            guard let head = queue.batches.first else { continue }
            if queue.retrying && queue.inFlight > 0 { continue }
            queue.retrying = false
            if queue.inFlight == 0 { queue.rewoundFrom = nil }
            if queue.retryAt > now {
                result.nextDeadline = min(result.nextDeadline ?? queue.retryAt, queue.retryAt)
                continue
            }
            let readyAt = head.createdAt + config.linger
            guard head.sealed || flushing || readyAt <= now else {
                result.nextDeadline = min(result.nextDeadline ?? readyAt, readyAt)
                continue
            }
            guard let node = leader(topicPartition) else {
                result.missingLeaders = true
                continue
            }
            let maxInFlight = isIdempotent ? min(config.maxInFlightRequestsPerConnection, 5) : config.maxInFlightRequestsPerConnection
            guard queue.inFlight < maxInFlight, nodeInFlight[node, default: 0] + (byNode[node] == nil ? 1 : 0) <= config.maxInFlightRequestsPerConnection else { continue }
            if byNode[node] != nil, requestBytes[node, default: 0] + head.sizeInBytes > config.maxRequestSize { continue }
            queue.batches.removeFirst()
            head.sealed = true
            if isIdempotent && head.baseSequence == nil {
                head.baseSequence = queue.nextSequence
                queue.nextSequence = queue.nextSequence &+ head.recordCount
            }
            queue.inFlight += 1
            if byNode[node] == nil { nodeInFlight[node, default: 0] += 1 }
            byNode[node, default: []].append(head)
            requestBytes[node, default: 0] += head.sizeInBytes
        }
        result.requests = byNode.map { ($0.key, $0.value) }
        return result
    }

    /// A request to `node` ended (whatever happened to its batches).
    mutating func requestEnded(node: Int32) {
        nodeInFlight[node, default: 1] -= 1
    }

    /// The batch is in the log (or a duplicate of one that is).
    mutating func completed(_ batch: ProducerBatch) {
        guard let queue = queues[batch.topicPartition] else { return }
        queue.inFlight -= 1
        finish(batch)
    }

    /// The batch failed retriably: it goes back to the front of its queue, in sequence order,
    /// after `retry.backoff.ms`.
    mutating func retry(_ batch: ProducerBatch, now: NIODeadline, backoff: TimeAmount) {
        guard let queue = queues[batch.topicPartition] else { return }
        queue.inFlight -= 1
        batch.attempts += 1
        if let rewound = queue.rewoundFrom, let sequence = batch.baseSequence, sequence >= rewound { batch.baseSequence = nil }
        // Numbered batches in sequence order, then renumbered ones, then those never sent.
        let position = queue.batches.firstIndex { other in
            guard let mine = batch.baseSequence else { return other.baseSequence == nil }
            guard let theirs = other.baseSequence else { return true }
            return theirs > mine
        } ?? queue.batches.endIndex
        queue.batches.insert(batch, at: position)
        queue.retrying = true
        queue.retryAt = now + backoff
    }

    /// The batch failed for good. With idempotence its sequence range was never written, so the
    /// partition's later batches are renumbered from its first sequence.
    mutating func failed(_ batch: ProducerBatch) {
        guard let queue = queues[batch.topicPartition] else { return }
        queue.inFlight -= 1
        if let sequence = batch.baseSequence {
            queue.nextSequence = sequence
            queue.rewoundFrom = min(queue.rewoundFrom ?? sequence, sequence)
            for queued in queue.batches where queued.baseSequence != nil { queued.baseSequence = nil }
            queue.retrying = true
        }
        finish(batch)
    }

    /// Takes every queued batch out (a fatal error, or close without flush).
    mutating func removeAll() -> [ProducerBatch] {
        var removed: [ProducerBatch] = []
        for queue in queues.values {
            for batch in queue.batches { finish(batch) }
            removed += queue.batches
            queue.batches = []
        }
        return removed
    }

    /// The partition's queue; the last one used is remembered, since a producer usually
    /// writes runs of records to one partition (keyless records stick to one per batch).
    private mutating func queue(_ topicPartition: TopicPartition) -> PartitionQueue {
        if let lastQueue, lastQueue.topicPartition == topicPartition { return lastQueue }
        let found: PartitionQueue
        if let existing = queues[topicPartition] {
            found = existing
        } else {
            found = PartitionQueue(topicPartition)
            queues[topicPartition] = found
        }
        lastQueue = found
        return found
    }

    private mutating func finish(_ batch: ProducerBatch) {
        pendingBatches -= 1
        bufferedBytes -= batch.bufferedBytes
    }

    /// A new producer id or epoch: sequences start again at 0 everywhere (KIP-360).
    func resetSequences() {
        for queue in queues.values {
            queue.nextSequence = 0
            for batch in queue.batches { batch.baseSequence = nil }
        }
    }
}
