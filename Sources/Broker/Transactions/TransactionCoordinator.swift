import KafkaProtocol
import LogStore
import Logging

/// Kafka's transaction coordinator (KIP-98) for this single-node site.
///
/// A transactional producer gets its id and a fresh epoch from InitProducerId (which aborts a
/// transaction its previous incarnation left open), registers partitions and consumer groups,
/// and ends with EndTxn: the state goes to PrepareCommit/PrepareAbort in `__transaction_state`,
/// markers are written to every partition (and transactional offsets are committed or dropped),
/// then the state is CompleteCommit/CompleteAbort. A transaction open longer than its timeout
/// is aborted with a bumped epoch, fencing the producer. After a crash, prepared transactions
/// are completed at start.
actor TransactionCoordinator {
    private var transactions: [String: TransactionMetadata]
    private let broker: BrokerContext
    private let groups: GroupCoordinator
    private let producerIds: ProducerIdAllocator
    private let log: TransactionLog
    private let maxTimeoutMs: Int32
    private let logger: Logger

    init(broker: BrokerContext, groups: GroupCoordinator, producerIds: ProducerIdAllocator, log: TransactionLog, logger: Logger) throws(KafkaError) {
        self.broker = broker
        self.groups = groups
        self.producerIds = producerIds
        self.log = log
        self.logger = logger
        maxTimeoutMs = Int32(clamping: broker.config.long("transaction.max.timeout.ms"))
        transactions = try log.load()
    }

    /// Completes transactions a crash left prepared (their markers may be partly written).
    func recover() async {
        for (id, transaction) in transactions where transaction.state == .prepareCommit || transaction.state == .prepareAbort {
            await complete(id, commit: transaction.state == .prepareCommit)
        }
    }

    private func persist(_ transaction: TransactionMetadata) throws(KafkaError) {
        try log.write(transaction, nowMs: broker.nowMs())
    }

    // MARK: InitProducerId

    func initProducerId(transactionalId: String, timeoutMs: Int32, producerId: Int64, producerEpoch: Int16) async -> (ErrorCode, Int64, Int16) {
        guard timeoutMs > 0, timeoutMs <= maxTimeoutMs else { return (.invalidTransactionTimeout, -1, -1) }
        let now = broker.nowMs()
        guard var transaction = transactions[transactionalId] else {
            do {
                let id = try producerIds.allocate()
                let fresh = TransactionMetadata(transactionalId: transactionalId, producerId: id, producerEpoch: 0, timeoutMs: timeoutMs,
                                                state: .empty, lastUpdateTimestampMs: now)
                try persist(fresh)
                transactions[transactionalId] = fresh
                return (.noError, id, 0)
            } catch {
                return (error.code, -1, -1)
            }
        }
        if producerId >= 0 && (producerId != transaction.producerId || producerEpoch != transaction.producerEpoch) {
            // KIP-360: only the current incarnation may re-initialise with its id and epoch.
            return (.producerFenced, -1, -1)
        }
        if transaction.state == .prepareCommit || transaction.state == .prepareAbort {
            return (.concurrentTransactions, -1, -1)
        }
        if transaction.state == .ongoing {
            // A new incarnation: the previous one's transaction is aborted.
            await complete(transactionalId, commit: false)
            guard let updated = transactions[transactionalId] else { return (.unknownServerError, -1, -1) }
            transaction = updated
        }
        do {
            if transaction.producerEpoch >= Int16.max - 1 {
                transaction.producerId = try producerIds.allocate()
                transaction.producerEpoch = 0
            } else {
                transaction.producerEpoch += 1
            }
            transaction.timeoutMs = timeoutMs
            transaction.state = .empty
            transaction.partitions = []
            transaction.groups = []
            transaction.lastUpdateTimestampMs = now
            try persist(transaction)
            transactions[transactionalId] = transaction
            return (.noError, transaction.producerId, transaction.producerEpoch)
        } catch {
            return (error.code, -1, -1)
        }
    }

    /// The error for a request from `producerId`/`epoch`, if it is not the current incarnation.
    private func validate(_ transactionalId: String, _ producerId: Int64, _ epoch: Int16) -> ErrorCode? {
        guard let transaction = transactions[transactionalId], transaction.producerId == producerId else { return .invalidProducerIdMapping }
        if epoch < transaction.producerEpoch { return .producerFenced }
        if epoch > transaction.producerEpoch { return .invalidProducerEpoch }
        if transaction.state == .prepareCommit || transaction.state == .prepareAbort { return .concurrentTransactions }
        return nil
    }

    // MARK: registering partitions and groups

    func addPartitions(transactionalId: String, producerId: Int64, epoch: Int16, partitions requested: [TopicPartition]) -> [TopicPartition: ErrorCode] {
        // A partition may be named twice in one request; it is answered once.
        let partitions = Array(Set(requested))
        if let error = validate(transactionalId, producerId, epoch) {
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, error) })
        }
        let unknown = partitions.filter { broker.registry.partition($0.topic, $0.partition) == nil }
        if !unknown.isEmpty {
            // Kafka fails the whole request: the known partitions get OPERATION_NOT_ATTEMPTED.
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, unknown.contains($0) ? .unknownTopicOrPartition : .operationNotAttempted) })
        }
        var transaction = transactions[transactionalId]!
        if transaction.state != .ongoing {
            transaction.state = .ongoing
            transaction.startTimestampMs = broker.nowMs()
            transaction.partitions = []
            transaction.groups = []
        }
        transaction.partitions.formUnion(partitions)
        transaction.lastUpdateTimestampMs = broker.nowMs()
        do {
            try persist(transaction)
        } catch {
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, error.code) })
        }
        transactions[transactionalId] = transaction
        return Dictionary(uniqueKeysWithValues: partitions.map { ($0, .noError) })
    }

    func addOffsets(transactionalId: String, producerId: Int64, epoch: Int16, groupId: String) -> ErrorCode {
        let offsetsPartition = TopicPartition(topic: GroupMetadataLog.topic, partition: groups.offsetsPartition(for: groupId))
        let result = addPartitions(transactionalId: transactionalId, producerId: producerId, epoch: epoch, partitions: [offsetsPartition])
        guard result[offsetsPartition] == .noError else { return result[offsetsPartition] ?? .unknownServerError }
        transactions[transactionalId]?.groups.insert(groupId)
        return .noError
    }

    /// TxnOffsetCommit is allowed for producers whose transaction added the group.
    func canCommitOffsets(transactionalId: String, producerId: Int64, epoch: Int16, groupId: String) -> ErrorCode {
        if let error = validate(transactionalId, producerId, epoch) { return error }
        guard transactions[transactionalId]?.state == .ongoing, transactions[transactionalId]?.groups.contains(groupId) == true else {
            return .invalidTxnState
        }
        return .noError
    }

    // MARK: ending

    func endTransaction(transactionalId: String, producerId: Int64, epoch: Int16, commit: Bool) async -> ErrorCode {
        guard let transaction = transactions[transactionalId], transaction.producerId == producerId else { return .invalidProducerIdMapping }
        if epoch < transaction.producerEpoch { return .producerFenced }
        if epoch > transaction.producerEpoch { return .invalidProducerEpoch }
        switch transaction.state {
        case .ongoing:
            break
        case .completeCommit where commit, .completeAbort where !commit:
            return .noError  // a retried EndTxn
        case .prepareCommit, .prepareAbort:
            return .concurrentTransactions
        case .empty where !commit:
            return .noError  // abort with nothing to abort
        default:
            return .invalidTxnState
        }
        await complete(transactionalId, commit: commit)
        return .noError
    }

    /// Prepare, write the markers and the group offsets, then complete.
    private func complete(_ transactionalId: String, commit: Bool) async {
        guard var transaction = transactions[transactionalId] else { return }
        transaction.state = commit ? .prepareCommit : .prepareAbort
        transaction.lastUpdateTimestampMs = broker.nowMs()
        try? persist(transaction)
        transactions[transactionalId] = transaction
        let now = broker.nowMs()
        for partition in transaction.partitions.sorted() {
            guard let log = broker.registry.partition(partition.topic, partition.partition) else { continue }
            do {
                try log.appendMarker(producerId: transaction.producerId, producerEpoch: transaction.producerEpoch,
                                     type: commit ? .commit : .abort, coordinatorEpoch: 0, nowMs: now)
            } catch {
                logger.error("cannot write transaction marker", metadata: ["transactional.id": "\(transactionalId)", "partition": "\(partition.topic)-\(partition.partition)", "error": "\(error)"])
            }
        }
        await groups.completeTransaction(producerId: transaction.producerId, commit: commit)
        broker.appends.notifyAppended()
        transaction.state = commit ? .completeCommit : .completeAbort
        transaction.partitions = []
        transaction.groups = []
        transaction.lastUpdateTimestampMs = broker.nowMs()
        try? persist(transaction)
        transactions[transactionalId] = transaction
    }

    /// Aborts transactions open longer than their timeout, bumping the epoch to fence the
    /// producer that let it run out (Kafka does the same), and forgets transactional ids idle
    /// for `transactional.id.expiration.ms`.
    func abortExpired() async {
        let now = broker.nowMs()
        let idle = broker.config.long("transactional.id.expiration.ms")
        for (id, transaction) in transactions where transaction.state != .ongoing && transaction.state != .prepareCommit
            && transaction.state != .prepareAbort && now - transaction.lastUpdateTimestampMs > idle {
            do {
                try log.remove(id, nowMs: now)
                transactions[id] = nil
            } catch {
                logger.error("cannot expire transactional id", metadata: ["transactional.id": "\(id)", "error": "\(error)"])
            }
        }
        for (id, transaction) in transactions where transaction.state == .ongoing && now - transaction.startTimestampMs > Int64(transaction.timeoutMs) {
            logger.info("aborting timed-out transaction", metadata: ["transactional.id": "\(id)"])
            await complete(id, commit: false)
            if var fenced = transactions[id], fenced.producerEpoch < Int16.max - 1 {
                fenced.producerEpoch += 1
                try? persist(fenced)
                transactions[id] = fenced
            }
        }
    }

    // MARK: describing

    func describe(_ transactionalId: String) -> TransactionMetadata? {
        transactions[transactionalId]
    }

    func list(states: [String], producerIds: [Int64]) -> [TransactionMetadata] {
        transactions.values.filter { transaction in
            (states.isEmpty || states.contains(transaction.state.name)) && (producerIds.isEmpty || producerIds.contains(transaction.producerId))
        }.sorted { $0.transactionalId < $1.transactionalId }
    }
}
