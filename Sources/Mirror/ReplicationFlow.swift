import KafkaClient
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One `source->target` flow in this agent: topic sync on its interval, membership of the
/// flow's work group on the target (so agents running the same flow split its partitions, and
/// a partition is handed over only after its previous owner stopped and stored its position),
/// and the copier for the partitions this agent owns.
final class ReplicationFlow: Sendable {
    let flow: FlowSettings
    private let source: KafkaCluster
    private let target: KafkaCluster
    private let logger: Logger
    private let state = NIOLockedValueBox<(status: FlowStatus, stopping: Bool, checkpoints: Int64, heartbeats: Int64,
                                           groups: [String: GroupCheckpointStatus], copier: FlowCopier?)>((FlowStatus(flow: ""), false, 0, 0, [:], nil))

    init(flow: FlowSettings, source: ClusterSettings, target: ClusterSettings, logger: Logger) {
        self.flow = flow
        self.source = KafkaCluster(config: source.client)
        self.target = KafkaCluster(config: target.client)
        self.logger = logger
        state.withLockedValue { $0.status = FlowStatus(flow: flow.name) }
    }

    var status: FlowStatus {
        let (status, copier) = state.withLockedValue { state in
            var status = state.status
            status.checkpoints = state.checkpoints
            status.heartbeats = state.heartbeats
            status.groups = state.groups.values.sorted { $0.group < $1.group }
            return (status, state.copier)
        }
        guard let copier else { return status }
        var withPartitions = status
        withPartitions.partitions = copier.partitionStatus
        return withPartitions
    }

    func stop() {
        state.withLockedValue { $0.stopping = true }
    }

    private var stopping: Bool { state.withLockedValue { $0.stopping } }

    /// Runs until `stop`; retries what fails, so a cluster that is away only delays the flow.
    /// The copier outlives each attempt (it keeps the topic ids, stopped partitions and alarms).
    /// Checkpoints and heartbeats run beside it, on their own task.
    func run() async {
        let store = SourceOffsetStore(cluster: target, topic: flow.offsetsTopic, sourceAlias: flow.source)
        let recorder = OffsetMapRecorder(store: OffsetMapStore(cluster: target, sourceAlias: flow.source))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.copy(store, recorder) }
            group.addTask { await self.emit(recorder) }
        }
        await store.close()
        await recorder.close()
        logger.info("\(flow.name) stopped: \(status.summary)")
        await source.close()
        await target.close()
    }

    private func copy(_ store: SourceOffsetStore, _ recorder: OffsetMapRecorder) async {
        do throws(KafkaClientError) {
            let copier = try FlowCopier(flow: flow, source: source, target: target, store: store, recorder: recorder, logger: logger)
            state.withLockedValue { $0.copier = copier }
            while !stopping {
                do throws(KafkaClientError) {
                    try await store.ensureTopic(replicationFactor: flow.offsetStorageReplicationFactor)
                    try await recorder.ensureTopic(replicationFactor: flow.offsetStorageReplicationFactor)
                    try await runOnce(copier, recorder)
                } catch {
                    logger.error("\(flow.name): \(error); retrying in 1 s")
                    try? await Task.sleep(nanoseconds: 1_000_000_000)
                }
            }
            await copier.close()
            publish(copier.status)
        } catch {
            logger.error("\(flow.name): \(error)")
        }
    }

    /// Heartbeats and checkpoints, each on its own task (a slow checkpoint round must not delay
    /// heartbeats), until `stop`.
    private func emit(_ recorder: OffsetMapRecorder) async {
        let source = KafkaCluster(config: self.source.config)
        let target = KafkaCluster(config: self.target.config)
        let checkpoints = CheckpointEmitter(flow: flow, source: source, target: target, recorder: recorder, logger: logger)
        let heartbeats = HeartbeatEmitter(flow: flow, target: target)
        // MM2's offset syncs: best-effort (a source where the topic cannot be created only logs),
        // on connections of their own (on the source they would wait behind the copy's Fetch
        // requests).
        let syncsCluster = flow.emitOffsetSyncs ? KafkaCluster(config: (flow.offsetSyncsOnTarget ? self.target : self.source).config) : nil
        let offsetSyncs = syncsCluster.map { InternalTopic(cluster: $0, name: flow.policy.offsetSyncsTopic(flow.target)) }
        await withTaskGroup(of: Void.self) { group in
            if flow.emitHeartbeats {
                group.addTask {
                    await self.repeatedly("heartbeats", every: self.flow.emitHeartbeatsInterval, prepare: heartbeats.ensureTopic) {
                        try await heartbeats.beat()
                        self.state.withLockedValue { $0.heartbeats += 1 }
                    }
                }
            }
            if let offsetSyncs {
                group.addTask {
                    await self.repeatedly("offset syncs", every: self.flow.offsetFlushInterval,
                                          prepare: { try await offsetSyncs.ensure(partitions: 1, replicationFactor: self.flow.offsetSyncsReplicationFactor) }) {
                        try await recorder.writeOffsetSyncs(to: offsetSyncs)
                    }
                }
            }
            if flow.emitCheckpoints {
                group.addTask {
                    await self.repeatedly("checkpoints", every: Self.checkpointRound, prepare: checkpoints.ensureTopic) {
                        self.record(try await checkpoints.round())
                    }
                }
            }
        }
        await checkpoints.close()
        await heartbeats.close()
        await offsetSyncs?.close()
        await syncsCluster?.close()
        await source.close()
        await target.close()
    }

    /// Runs `work` every `interval` until `stop`, after `prepare` succeeded once; a failure is
    /// logged (once per kind, not every turn while a cluster is away) and the work tried again at
    /// its next turn.
    private func repeatedly(_ what: String, every interval: TimeAmount, prepare: () async throws -> Void,
                            _ work: () async throws -> Void) async {
        var ready = false
        var next = NIODeadline.now()
        var lastFailure: String?
        while !stopping {
            if NIODeadline.now() >= next {
                next = .now() + interval
                do {
                    if !ready {
                        try await prepare()
                        ready = true
                    }
                    try await work()
                    lastFailure = nil
                } catch {
                    if lastFailure != "\(error)" { logger.warning("\(flow.name): \(what): \(error)") }
                    lastFailure = "\(error)"
                }
            }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// How often committed offsets are looked at, so a commit is checkpointed within about a
    /// second whatever `emit.checkpoints.interval.seconds` says (that one re-emits them all).
    private static let checkpointRound = TimeAmount.seconds(1)

    /// One membership of the work group: joins, copies what it is given, and on the way out
    /// (stop or failure) hands everything back with positions stored, then leaves.
    private func runOnce(_ copier: FlowCopier, _ recorder: OffsetMapRecorder) async throws(KafkaClientError) {
        let topics = TopicSynchronizer(flow: flow, source: source, target: target, logger: logger)
        var mappings = try await topics.sync(syncConfigs: true)
        let acls = AclSynchronizer(flowName: flow.name, source: source, target: target, logger: logger)
        if flow.syncTopicAcls { await acls.sync(mappings) }
        var lastTopicSync = NIODeadline.now()
        var lastConfigSync = NIODeadline.now()
        var lastAclSync = NIODeadline.now()
        await copier.update(mappings: mappings)
        let failure = FailureBox()
        let member = try WorkGroupMember(
            coordinatorCluster: target, config: workGroupConfig(), topics: Set(mappings.keys), partitionCounts: source,
            listener: .init(assigned: { partitions in
                                do throws(KafkaClientError) {
                                    try await copier.assign(partitions)
                                } catch {
                                    failure.set(error)
                                }
                            },
                            revoked: { await copier.revoke($0, lost: false) },
                            lost: { await copier.revoke($0, lost: true) }))
        var ended: KafkaClientError?
        do throws(KafkaClientError) {
            while !stopping {
                // Without partitions there is nothing to fetch: spend the time joining instead.
                let idle = copier.isIdle
                try await member.poll(deadline: .now() + (idle ? flow.pollTimeout : .milliseconds(100)))
                if let error = failure.value { throw error }
                if copier.isIdle {
                    try? await Task.sleep(nanoseconds: 100_000_000)
                } else {
                    try await copier.step()
                }
                publish(copier.status)
                let now = NIODeadline.now()
                if flow.refreshTopics && now - lastTopicSync >= flow.refreshTopicsInterval {
                    let configsDue = flow.syncTopicConfigs && now - lastConfigSync >= flow.syncTopicConfigsInterval
                    let fresh = try await topics.sync(syncConfigs: configsDue)
                    lastTopicSync = .now()
                    if configsDue { lastConfigSync = lastTopicSync }
                    await copier.update(mappings: fresh)
                    if Set(fresh.keys) != Set(mappings.keys) {
                        logger.info("\(flow.name): now replicating \(fresh.keys.sorted().joined(separator: ", "))")
                        member.update(topics: Set(fresh.keys))
                    }
                    mappings = fresh
                }
                if flow.syncTopicAcls && now - lastAclSync >= flow.syncTopicAclsInterval {
                    await acls.sync(mappings)
                    lastAclSync = .now()
                }
            }
        } catch {
            ended = error
        }
        if ended == nil && stopping && flow.emitCheckpoints {
            // A stop: positions stored first, then the checkpoints they allow, while this agent
            // still owns its partitions (handing them over forgets what it may translate).
            await copier.settle()
            await finalCheckpoints(recorder)
        }
        await copier.revokeAll()
        await member.leave()
        publish(copier.status)
        if let ended { throw ended }
    }

    /// One last checkpoint round on the way out, so that consumers failing over after a
    /// graceful stop land at the very end of what was copied. Bounded: a source that does not
    /// answer must not hold up the stop.
    private func finalCheckpoints(_ recorder: OffsetMapRecorder) async {
        let emitter = CheckpointEmitter(flow: flow, source: source, target: target, recorder: recorder, logger: logger)
        let written = await withTaskGroup(of: [Checkpoint]?.self) { group in
            group.addTask { try? await emitter.round() }
            group.addTask {
                try? await Task.sleep(for: Self.finalCheckpointLimit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        await emitter.close()
        if let written { record(written) } else { logger.warning("\(flow.name): no final checkpoints within \(Self.finalCheckpointLimit)") }
    }

    private static let finalCheckpointLimit = Duration.seconds(10)

    private func record(_ written: [Checkpoint]) {
        let now = WallClock.nowMs()
        state.withLockedValue { state in
            state.checkpoints += Int64(written.count)
            for (group, checkpoints) in Dictionary(grouping: written, by: \.group) {
                state.groups[group] = GroupCheckpointStatus(group: group, timeMs: now, partitions: checkpoints.count)
            }
        }
    }

    private func workGroupConfig() -> ConsumerConfig {
        var config = ConsumerConfig(groupId: flow.workGroup)
        config.assignors = [.cooperativeSticky]
        config.sessionTimeout = flow.workGroupSessionTimeout
        config.heartbeatInterval = flow.workGroupHeartbeatInterval
        config.maxPollInterval = flow.workGroupRebalanceTimeout
        return config
    }

    private func publish(_ status: FlowStatus) {
        state.withLockedValue { $0.status = status }
    }
}
