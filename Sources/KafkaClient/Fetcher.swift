import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// The consumer's background fetching: finds positions (committed offsets, ListOffsets),
/// validates them after leader changes (OffsetForLeaderEpoch, KIP-320), and keeps one Fetch in
/// flight per leader broker for the partitions whose previous answer has been consumed, so
/// brokers work in parallel and the next batch is usually ready when `poll` asks.
final class Fetcher: @unchecked Sendable {
    let cluster: KafkaCluster
    let config: ConsumerConfig
    private let lock = NIOLock()
    private var state = SubscriptionState()
    private var completed: [PartitionFetch] = []
    /// Bytes of `completed`; no new fetch starts above `fetch.max.bytes`.
    private var bufferedBytes = 0
    private var nodesInFlight: Set<Int32> = []
    private var closed = false
    private let fetchSignal: WakeSignal
    private let dataSignal: WakeSignal
    private var task: Task<Void, Never>?

    /// With a `group.id`, new partitions start at the group's committed offsets.
    init(cluster: KafkaCluster, config: ConsumerConfig) {
        self.cluster = cluster
        self.config = config
        fetchSignal = WakeSignal(eventLoop: cluster.group.next())
        dataSignal = WakeSignal(eventLoop: cluster.group.next())
        let started = Task { await self.run() }
        lock.withLock { task = started }
    }

    // MARK: - Called by the consumer

    /// `starts` places new partitions in the same step, so no fetch goes out from a default
    /// position first.
    func assign(_ assignment: Set<TopicPartition>, starts: [TopicPartition: KafkaConsumer.StartPosition] = [:]) {
        lock.withLock {
            state.assign(assignment, source: config.groupId == nil ? Self.source(config.autoOffsetReset) : .committed)
            for (topicPartition, start) in starts where assignment.contains(topicPartition) {
                switch start {
                case .offset(let offset): state.seek(topicPartition, to: offset)
                case .beginning: state.seek(topicPartition, to: .earliest)
                case .end: state.seek(topicPartition, to: .latest)
                }
                dropBuffered(topicPartition)
            }
            completed.removeAll { fetch in
                guard !assignment.contains(fetch.topicPartition) else { return false }
                bufferedBytes -= fetch.sizeInBytes
                return true
            }
        }
        fetchSignal.notify()
    }

    var assignment: Set<TopicPartition> { lock.withLock { state.assignment } }

    func seek(_ topicPartition: TopicPartition, to offset: Int64) throws(KafkaClientError) {
        try update(topicPartition) { $0.seek(topicPartition, to: offset) }
    }

    func seek(_ topicPartition: TopicPartition, to source: SubscriptionState.PositionSource) throws(KafkaClientError) {
        try update(topicPartition) { $0.seek(topicPartition, to: source) }
    }

    func setPaused(_ topicPartitions: [TopicPartition], _ paused: Bool) throws(KafkaClientError) {
        for topicPartition in topicPartitions {
            try update(topicPartition) { $0[topicPartition]!.paused = paused }
        }
    }

    private func update(_ topicPartition: TopicPartition, _ body: (inout SubscriptionState) -> Void) throws(KafkaClientError) {
        let known = lock.withLock {
            guard state[topicPartition] != nil else { return false }
            body(&state)
            dropBuffered(topicPartition)
            return true
        }
        guard known else { throw .invalidArgument("\(topicPartition) is not assigned to this consumer") }
        fetchSignal.notify()
    }

    /// Forgets answers buffered for a partition whose position moved (under the lock).
    private func dropBuffered(_ topicPartition: TopicPartition) {
        completed.removeAll { fetch in
            guard fetch.topicPartition == topicPartition else { return false }
            bufferedBytes -= fetch.sizeInBytes
            return true
        }
        let position = state[topicPartition]?.position
        state[topicPartition]?.bufferedFetches = 0
        state[topicPartition]?.fetchPosition = position
    }

    /// The position of an assigned partition, once known.
    func position(_ topicPartition: TopicPartition) -> Int64? {
        lock.withLock { state[topicPartition]?.position }
    }

    var positions: [TopicPartition: Int64] {
        lock.withLock { state.partitions.compactMapValues(\.position) }
    }

    /// Fetched data for the assigned, unpaused partitions whose position it continues; moves
    /// their positions past it. Waits up to `timeout` when nothing is ready.
    func poll(timeout: TimeAmount) async throws(KafkaClientError) -> [PartitionFetch] {
        let deadline = NIODeadline.now() + timeout
        while true {
            let taken: Result<[PartitionFetch], KafkaClientError> = lock.withLock {
                if let (key, failed) = state.partitions.first(where: { $0.value.error != nil }) {
                    state[key]!.error = nil
                    return .failure(failed.error!)
                }
                var ready: [PartitionFetch] = []
                var kept: [PartitionFetch] = []
                for fetch in completed {
                    guard let partition = state[fetch.topicPartition], partition.position == fetch.fetchOffset else {
                        bufferedBytes -= fetch.sizeInBytes
                        continue
                    }
                    if partition.paused {
                        kept.append(fetch)
                        continue
                    }
                    state[fetch.topicPartition]!.position = fetch.nextOffset
                    state[fetch.topicPartition]!.bufferedFetches -= 1
                    bufferedBytes -= fetch.sizeInBytes
                    ready.append(fetch)
                }
                completed = kept
                return .success(ready)
            }
            let ready = try taken.get()
            if !ready.isEmpty {
                fetchSignal.notify()
                return ready
            }
            guard NIODeadline.now() < deadline, !lock.withLock({ closed }) else { return [] }
            await dataSignal.wait(until: deadline)
        }
    }

    func close() async {
        let running: Task<Void, Never>? = lock.withLock {
            closed = true
            return task
        }
        fetchSignal.notify()
        dataSignal.notify()
        await running?.value
    }

    static func source(_ reset: ConsumerConfig.OffsetReset) -> SubscriptionState.PositionSource {
        reset == .earliest ? .earliest : .latest
    }

    // MARK: - The loop

    private func run() async {
        var backoff = false
        while !lock.withLock({ closed }) {
            if backoff { try? await Task.sleep(nanoseconds: UInt64(cluster.config.retryBackoff.nanoseconds)) }
            backoff = false
            let topics = Set(lock.withLock { state.assignment }.map(\.topic))
            var metadata: ClusterMetadata
            do {
                metadata = try await cluster.watch(Array(topics))
                metadata = try await cluster.freshMetadata()
            } catch {
                backoff = true
                continue
            }
            backoff = await resolvePositions(metadata) || backoff
            backoff = await validatePositions(metadata) || backoff
            let plan: [Int32: [(TopicPartition, Int64, Int32)]] = lock.withLock {
                var byNode: [Int32: [(TopicPartition, Int64, Int32)]] = [:]
                guard bufferedBytes < Int(config.fetchMaxBytes) else { return byNode }
                for (topicPartition, position) in state.fetchable {
                    guard let (node, epoch) = metadata.leader(topic: topicPartition.topic, partition: topicPartition.partition) else {
                        backoff = true
                        continue
                    }
                    if epoch > state[topicPartition]!.validatedLeaderEpoch {
                        if state[topicPartition]!.lastFetchedEpoch >= 0 && state[topicPartition]!.validatedLeaderEpoch >= 0 {
                            state[topicPartition]!.needsValidation = true
                            dropBuffered(topicPartition)
                            continue
                        }
                        state[topicPartition]!.validatedLeaderEpoch = epoch
                    }
                    guard !nodesInFlight.contains(node) else { continue }
                    byNode[node, default: []].append((topicPartition, position, epoch))
                }
                for (node, partitions) in byNode {
                    nodesInFlight.insert(node)
                    for (topicPartition, _, _) in partitions { state[topicPartition]!.fetchInFlight = true }
                }
                return byNode
            }
            if backoff { await cluster.invalidateMetadata() }
            for (node, partitions) in plan {
                Task { await self.fetch(partitions, from: node) }
            }
            if !backoff { await fetchSignal.wait(until: .now() + .seconds(1)) }
        }
    }

    /// Looks up positions that are not known yet. Returns whether something must be retried.
    private func resolvePositions(_ metadata: ClusterMetadata) async -> Bool {
        let pending = lock.withLock { state.pendingPositions }
        guard !pending.isEmpty else { return false }
        var retry = false
        var bySource = pending
        let committedWanted = pending.filter { $0.1 == .committed }.map(\.0)
        if !committedWanted.isEmpty, let group = config.groupId {
            do throws(KafkaClientError) {
                let committed = try await cluster.committedOffsets(group: group, partitions: committedWanted,
                                                                   requireStable: config.isolationLevel == .readCommitted).mapValues(\.offset)
                lock.withLock {
                    for topicPartition in committedWanted where state[topicPartition]?.pendingPosition == .committed {
                        if let offset = committed[topicPartition], offset >= 0 {
                            state.reposition(topicPartition, to: offset)
                        } else {
                            state[topicPartition]!.pendingPosition = Self.source(config.autoOffsetReset)
                        }
                    }
                }
                bySource = lock.withLock { state.pendingPositions }
            } catch {
                return true
            }
        }
        if config.autoOffsetReset == .none {
            lock.withLock {
                for (topicPartition, source) in bySource where source == .latest && state[topicPartition]?.pendingPosition == source {
                    state[topicPartition]!.pendingPosition = nil
                    state[topicPartition]!.error = .offsetOutOfRange(topic: topicPartition.topic, partition: topicPartition.partition, offset: -1)
                }
            }
        }
        var byNode: [Int32: [(TopicPartition, SubscriptionState.PositionSource)]] = [:]
        for (topicPartition, source) in bySource where source != .committed {
            guard let (node, _) = metadata.leader(topic: topicPartition.topic, partition: topicPartition.partition) else {
                retry = true
                continue
            }
            byNode[node, default: []].append((topicPartition, source))
        }
        for (node, partitions) in byNode {
            do throws(KafkaClientError) {
                let found = try await listOffsets(partitions, node: node, metadata: metadata)
                lock.withLock {
                    for (topicPartition, source) in partitions where state[topicPartition]?.pendingPosition == source {
                        guard let offset = found[topicPartition] else {
                            retry = true
                            continue
                        }
                        state.reposition(topicPartition, to: offset)
                    }
                }
            } catch {
                retry = true
            }
        }
        return retry
    }

    /// ListOffsets for the partitions on one leader: earliest (-2), latest (-1) or the first
    /// offset at a timestamp (the log end when there is none).
    private func listOffsets(_ partitions: [(TopicPartition, SubscriptionState.PositionSource)], node: Int32,
                             metadata: ClusterMetadata) async throws(KafkaClientError) -> [TopicPartition: Int64] {
        var topics: [String: [ListOffsetsRequest.ListOffsetsPartition]] = [:]
        for (topicPartition, source) in partitions {
            let timestamp: Int64
            switch source {
            case .earliest: timestamp = -2
            case .latest, .committed: timestamp = -1
            case .timestamp(let value): timestamp = value
            }
            let epoch = metadata.leader(topic: topicPartition.topic, partition: topicPartition.partition)?.epoch ?? -1
            topics[topicPartition.topic, default: []].append(.init(partitionIndex: topicPartition.partition, currentLeaderEpoch: epoch, timestamp: timestamp))
        }
        let connection = try await cluster.connection(to: node)
        let response = try await connection.send(ListOffsetsRequest(replicaId: -1, isolationLevel: config.isolationLevel.rawValue,
                                                                    topics: topics.map { .init(name: $0.key, partitions: $0.value) }))
        var result: [TopicPartition: Int64] = [:]
        var endNeeded: [(TopicPartition, SubscriptionState.PositionSource)] = []
        for topic in response.topics {
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.partitionIndex)
                guard partition.errorCode == 0 else {
                    if KafkaClientError.from(partition.errorCode, "").invalidatesMetadata { await cluster.invalidateMetadata() }
                    continue
                }
                if partition.offset >= 0 {
                    result[key] = partition.offset
                } else {
                    endNeeded.append((key, .latest))
                }
            }
        }
        if !endNeeded.isEmpty {
            result.merge(try await listOffsets(endNeeded, node: node, metadata: metadata)) { $1 }
        }
        return result
    }

    /// OffsetForLeaderEpoch for positions fetched under an older leader epoch: a log that ends
    /// below the position in that epoch was truncated.
    private func validatePositions(_ metadata: ClusterMetadata) async -> Bool {
        let pending: [(TopicPartition, Int64, Int32)] = lock.withLock {
            state.partitions.compactMap { key, value in
                guard value.needsValidation, let position = value.position else { return nil }
                return (key, position, value.lastFetchedEpoch)
            }
        }
        guard !pending.isEmpty else { return false }
        var retry = false
        var byNode: [Int32: [(TopicPartition, Int64, Int32, Int32)]] = [:]
        for (topicPartition, position, lastEpoch) in pending {
            guard let (node, epoch) = metadata.leader(topic: topicPartition.topic, partition: topicPartition.partition) else {
                retry = true
                continue
            }
            byNode[node, default: []].append((topicPartition, position, lastEpoch, epoch))
        }
        for (node, partitions) in byNode {
            do throws(KafkaClientError) {
                var topics: [String: [OffsetForLeaderEpochRequest.OffsetForLeaderPartition]] = [:]
                for (topicPartition, _, lastEpoch, epoch) in partitions {
                    topics[topicPartition.topic, default: []].append(.init(partition: topicPartition.partition, currentLeaderEpoch: epoch, leaderEpoch: lastEpoch))
                }
                let connection = try await cluster.connection(to: node)
                let response = try await connection.send(OffsetForLeaderEpochRequest(replicaId: -1, topics: topics.map { .init(topic: $0.key, partitions: $0.value) }))
                var answers: [TopicPartition: OffsetForLeaderEpochResponse.EpochEndOffset] = [:]
                for topic in response.topics {
                    for partition in topic.partitions { answers[TopicPartition(topic.topic, partition.partition)] = partition }
                }
                lock.withLock {
                    for (topicPartition, position, _, epoch) in partitions {
                        guard let answer = answers[topicPartition], state[topicPartition]?.position == position else { continue }
                        guard answer.errorCode == 0 else {
                            retry = true
                            continue
                        }
                        state[topicPartition]!.needsValidation = false
                        state[topicPartition]!.validatedLeaderEpoch = epoch
                        if answer.endOffset >= 0 && answer.endOffset < position {
                            let truncation = KafkaClientError.logTruncation(topic: topicPartition.topic, partition: topicPartition.partition,
                                                                            position: position, divergingOffset: answer.endOffset)
                            state[topicPartition]!.error = truncation
                            if config.autoOffsetReset != .none {
                                state.reposition(topicPartition, to: answer.endOffset)
                                state[topicPartition]!.error = truncation
                            }
                        }
                    }
                }
            } catch {
                retry = true
            }
        }
        if retry { await cluster.invalidateMetadata() }
        return retry
    }

    private func fetch(_ partitions: [(TopicPartition, Int64, Int32)], from node: Int32) async {
        var topics: [String: [FetchRequest.FetchPartition]] = [:]
        var order: [String] = []
        for (topicPartition, position, epoch) in partitions {
            if topics[topicPartition.topic] == nil { order.append(topicPartition.topic) }
            let lastFetched = lock.withLock { state[topicPartition]?.lastFetchedEpoch ?? -1 }
            topics[topicPartition.topic, default: []].append(.init(partition: topicPartition.partition, currentLeaderEpoch: epoch, fetchOffset: position,
                                                                   lastFetchedEpoch: lastFetched, logStartOffset: -1,
                                                                   partitionMaxBytes: config.maxPartitionFetchBytes))
        }
        let request = FetchRequest(replicaId: -1, maxWaitMs: Int32(config.fetchMaxWait.nanoseconds / 1_000_000), minBytes: config.fetchMinBytes,
                                   maxBytes: config.fetchMaxBytes, isolationLevel: config.isolationLevel.rawValue, sessionId: 0, sessionEpoch: -1,
                                   topics: order.map { .init(topic: $0, partitions: topics[$0]!) })
        var results: [TopicPartition: Result<PartitionFetch?, KafkaClientError>] = [:]
        var invalidate = false
        do throws(KafkaClientError) {
            let connection = try await cluster.connection(to: node)
            let response = try await connection.send(request)
            try KafkaClientError.check(response.errorCode, "Fetch from node \(node)")
            let positions = Dictionary(partitions.map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
            for topic in response.responses {
                for data in topic.partitions {
                    let key = TopicPartition(topic.topic, data.partitionIndex)
                    guard let position = positions[key] else { continue }
                    let outcome = FetchedPartitionDecoder(isolationLevel: config.isolationLevel, checkCRCs: config.checkCRCs).decode(key, position: position, data)
                    if case .failure(let error) = outcome, error.invalidatesMetadata { invalidate = true }
                    results[key] = outcome
                }
            }
        } catch {
            invalidate = true
            if error.invalidatesMetadata { await cluster.dropConnection(to: node) }
        }
        if invalidate { await cluster.invalidateMetadata() }
        let hasData: Bool = lock.withLock {
            nodesInFlight.remove(node)
            var hasData = false
            for (topicPartition, position, _) in partitions {
                guard state[topicPartition] != nil else { continue }
                state[topicPartition]!.fetchInFlight = false
                guard state[topicPartition]!.fetchPosition == position else { continue }
                switch results[topicPartition] {
                case .success(let fetch?):
                    completed.append(fetch)
                    bufferedBytes += fetch.sizeInBytes
                    state[topicPartition]!.fetchPosition = fetch.nextOffset
                    state[topicPartition]!.bufferedFetches += 1
                    if let epoch = fetch.batches.last?.partitionLeaderEpoch, epoch >= 0 { state[topicPartition]!.lastFetchedEpoch = epoch }
                    hasData = true
                case .failure(.offsetOutOfRange(let topic, let partition, let offset)):
                    if config.autoOffsetReset == .none {
                        state[topicPartition]!.error = .offsetOutOfRange(topic: topic, partition: partition, offset: offset)
                        hasData = true
                    } else {
                        state.seek(topicPartition, to: Self.source(config.autoOffsetReset))
                        dropBuffered(topicPartition)
                    }
                case .failure(.broker(.fencedLeaderEpoch, _)):
                    state[topicPartition]!.needsValidation = state[topicPartition]!.lastFetchedEpoch >= 0
                    dropBuffered(topicPartition)
                case .failure(let error) where !error.isRetriable:
                    state[topicPartition]!.error = error
                    hasData = true
                default:
                    break
                }
            }
            return hasData
        }
        if hasData { dataSignal.notify() }
        fetchSignal.notify()
    }
}
