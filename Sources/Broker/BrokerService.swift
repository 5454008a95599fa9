#if canImport(Glibc)
import Glibc
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif
import KafkaProtocol
import LogStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One embedded Kafka broker as a service: `run()` opens the data directory, serves until
/// graceful shutdown, then closes every log so the next start needs no recovery.
///
/// Data directory: `meta.properties` (node.id, cluster.id, as Kafka writes it), `.lock` (held
/// with flock while running), `.kafka_cleanshutdown` (present only between a clean stop and the
/// next start), `meta/` (see `TopicRegistry`) and the partition directories.
public final class BrokerService: Service, Sendable {
    public let config: BrokerConfig
    private let logger: Logger
    private let boundPort = BoundPort()
    /// What `statistics()` reads, while the broker runs.
    private let running = NIOLockedValueBox<(registry: TopicRegistry, groups: GroupCoordinator, metrics: BrokerMetrics)?>(nil)

    public init(config: BrokerConfig, logger: Logger = Logger(label: "strait.broker")) {
        self.config = config
        self.logger = logger
    }

    /// The port actually bound (useful with `--listen HOST:0`), once listening.
    public var listeningPort: Int? { boundPort.value }

    /// The bound port once the broker listens; throws why it could not start (a
    /// `BrokerStartError` naming the setting to blame) otherwise.
    public func listening() async throws -> Int {
        try await boundPort.wait()
    }

    public func run() async throws {
        do {
            try await serve()
        } catch {
            boundPort.fail(error)
            throw error
        }
        boundPort.fail(BrokerStartError(.listener, "stopped before it listened"))
    }

    private func serve() async throws {
        do {
            try config.validate()
        } catch {
            throw BrokerStartError(.settings, error.description)
        }
        Self.raiseOpenFileLimit()
        Self.keepLargeBuffersInTheHeap()
        let started = WallClock.nowMs()
        let marker = config.dataDirectory + "/.kafka_cleanshutdown"
        let (lock, clusterId, clean, registry) = try Self.blamingDataDirectory { () throws -> (DataDirectoryLock, String, Bool, TopicRegistry) in
            try FileSystem.makeDirectory(config.dataDirectory)
            let lock = try DataDirectoryLock(directory: config.dataDirectory)
            do {
                let clusterId = try MetaProperties.load(config: config)
                let clean = FileSystem.exists(marker) || !FileSystem.exists(config.dataDirectory + "/meta")
                FileSystem.remove(marker)
                return (lock, clusterId, clean, try TopicRegistry(config: config, cleanShutdown: clean, nowMs: started))
            } catch {
                lock.release()
                throw error
            }
        }
        defer { lock.release() }
        for repair in registry.repairs { logger.warning("\(repair)") }
        let context = BrokerContext(config: config, clusterId: clusterId, registry: registry)
        let groups = try GroupCoordinator(log: GroupMetadataLog(registry: registry, nowMs: started),
                                          settings: Self.groupSettings(config), logger: logger)
        let producerIds = ProducerIdAllocator(dataDirectory: config.dataDirectory)
        let transactions = try TransactionCoordinator(broker: context, groups: groups, producerIds: producerIds,
                                                      log: TransactionLog(registry: registry, nowMs: started), logger: logger)
        await transactions.recover()
        let scram: ScramCredentialStore
        let security: [ListenerSecurity]
        do {
            scram = try ScramCredentialStore(dataDirectory: config.dataDirectory)
            security = try config.listeners.map { listener in
                do {
                    return try ListenerSecurity(listener: listener, config: config)
                } catch {
                    throw BrokerStartError(.settings, "listener \(listener.name): \(error)")
                }
            }
        } catch {
            registry.closeAll()
            throw (error as? BrokerStartError) ?? BrokerStartError(.dataDirectory, (error as? KafkaError)?.message ?? "\(error)")
        }
        var dispatcher = Self.dispatcher(for: context, groups: groups, transactions: transactions, producerIds: producerIds, scram: scram)
        do {
            dispatcher.authorizer = try Self.authorizer(config)
            if let authorizer = dispatcher.authorizer {
                logger.info("ACL authorizer on", metadata: ["acls": "\(authorizer.store.all.count)", "super.users": "\(authorizer.superUsers.sorted().joined(separator: ";"))",
                                                            "allow.everyone.if.no.acl.found": "\(authorizer.allowEveryoneIfNoAclFound)"])
            }
        } catch {
            registry.closeAll()
            throw BrokerStartError(.dataDirectory, error.message ?? "\(error.code)")
        }
        let metrics = BrokerMetrics(site: config.siteName, apis: dispatcher.supportedApis.map(\.key))
        let limits: ServerLimits
        do {
            limits = try ServerLimits(config: config)
        } catch {
            registry.closeAll()
            throw BrokerStartError(.settings, error.description)
        }
        var bound: [(KafkaServer, KafkaServer.Listener)] = []
        for listenerSecurity in security {
            let server = KafkaServer(security: listenerSecurity, scram: scram, limits: limits,
                                     dispatcher: dispatcher, metrics: metrics, logger: logger)
            let address = "\(listenerSecurity.listener.host):\(listenerSecurity.listener.port)"
            do {
                bound.append((server, try await server.bind(group: MultiThreadedEventLoopGroup.singleton)))
            } catch {
                for (_, listener) in bound { try? await listener.channel.close() }
                registry.closeAll()
                let reason = (error as? IOError).map { FileSystem.describe(errno: $0.errnoCode) } ?? "\(error)"
                throw BrokerStartError(.listener, "cannot listen on \(address): \(reason)")
            }
        }
        let listeners = bound
        let port = listeners[0].1.channel.localAddress?.port ?? config.listenPort
        running.withLockedValue { $0 = (registry, groups, metrics) }
        defer { running.withLockedValue { $0 = nil } }
        boundPort.set(port)
        let addresses = listeners.map { server, bound in
            "\(server.security.listener.name)://\(server.security.listener.host):\(bound.channel.localAddress?.port ?? server.security.listener.port)"
        }
        logger.info("broker listening", metadata: [
            "listeners": "\(addresses.joined(separator: ","))", "node.id": "\(config.nodeId)", "cluster.id": "\(clusterId)",
            "topics": "\(registry.allTopics().count)", "recovered": "\(!clean)",
        ])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await LogMaintenance(registry: registry, config: self.config, logger: self.logger).run() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(nanoseconds: 250_000_000)
                        await groups.expireSessions()
                        await transactions.abortExpired()
                    }
                }
                try await withThrowingDiscardingTaskGroup { servers in
                    for (server, bound) in listeners { servers.addTask { try await server.serve(bound) } }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            for (_, bound) in listeners { bound.channel.close(promise: nil) }
            Task { await groups.shutdown() }
        }
        registry.closeAll()
        try FileSystem.writeTextAtomically("", to: marker)
        logger.info("broker stopped cleanly")
    }

    /// The broker's size now, or nil when it is not serving.
    public func statistics() async -> BrokerStatistics? {
        guard let (registry, groups, metrics) = running.withLockedValue({ $0 }) else { return nil }
        let topics = registry.allTopics()
        let partitions = topics.flatMap(\.partitions)
        return BrokerStatistics(topics: topics.count, partitions: partitions.count,
                                logBytes: partitions.reduce(0) { $0 + Int64($1.sizeInBytes) }, groups: await groups.groupCount,
                                connections: metrics.connections)
    }

    /// Runs the opening of the data directory, blaming that setting for whatever fails.
    private static func blamingDataDirectory<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BrokerStartError {
            throw error
        } catch let error as KafkaError {
            throw BrokerStartError(.dataDirectory, error.message ?? "\(error.code)")
        } catch {
            throw BrokerStartError(.dataDirectory, "\(error)")
        }
    }

    /// Raises the soft limit on open files to the hard limit, as the JVM does for Kafka: each
    /// partition being written holds its segment and index files open.
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
    }

    /// Fetch responses are built in buffers of up to `fetch.max.bytes`. glibc serves such sizes
    /// with a fresh mmap each time, so every fetch faulted its pages in again (measured: about
    /// two page faults per KB served). Keeping them in the heap lets freed buffers be reused.
    static func keepLargeBuffersInTheHeap() {
        #if canImport(Glibc)
        // mallopt is not exported by Swift's Glibc module; M_TRIM_THRESHOLD is -1 and
        // M_MMAP_THRESHOLD is -3 in glibc's malloc.h.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 64 << 20)
        _ = mallopt(-1, 256 << 20)
        #endif
    }

    /// The ACL authorizer when `authorizer.class.name` names Kafka's.
    static func authorizer(_ config: BrokerConfig) throws(KafkaError) -> Authorizer? {
        let settings = config.securitySettings
        guard let name = settings["authorizer.class.name"]?.trimmingWhitespace(), Authorizer.classNames.contains(name) else { return nil }
        return Authorizer(store: try AclStore(dataDirectory: config.dataDirectory), superUsers: Authorizer.superUsers(settings["super.users"]),
                          allowEveryoneIfNoAclFound: settings["allow.everyone.if.no.acl.found"]?.trimmingWhitespace() == "true")
    }

    /// Every API this broker implements; ApiVersions advertises exactly these.
    static func groupSettings(_ config: BrokerConfig) -> GroupCoordinator.Settings {
        var settings = GroupCoordinator.Settings()
        settings.minSessionTimeoutMs = Int32(clamping: config.long("group.min.session.timeout.ms"))
        settings.maxSessionTimeoutMs = Int32(clamping: config.long("group.max.session.timeout.ms"))
        settings.initialRebalanceDelayMs = config.long("group.initial.rebalance.delay.ms")
        settings.offsetMetadataMaxBytes = Int(config.long("offset.metadata.max.bytes"))
        settings.offsetsRetentionMs = config.long("offsets.retention.minutes") * 60_000
        return settings
    }

    static func dispatcher(for context: BrokerContext, groups: GroupCoordinator, transactions: TransactionCoordinator,
                           producerIds: ProducerIdAllocator, scram: ScramCredentialStore) -> RequestDispatcher {
        var dispatcher = RequestDispatcher()
        dispatcher.register(ProduceHandler(broker: context))
        dispatcher.registerZeroCopy(FetchHandler(broker: context))
        dispatcher.register(ListOffsetsHandler(broker: context))
        dispatcher.register(MetadataHandler(broker: context))
        dispatcher.register(CreateTopicsHandler(broker: context))
        dispatcher.register(DeleteTopicsHandler(broker: context))
        dispatcher.register(DeleteRecordsHandler(broker: context))
        dispatcher.register(OffsetForLeaderEpochHandler(broker: context))
        dispatcher.register(DescribeConfigsHandler(broker: context))
        dispatcher.register(AlterConfigsHandler(broker: context))
        dispatcher.register(CreatePartitionsHandler(broker: context))
        dispatcher.register(IncrementalAlterConfigsHandler(broker: context))
        dispatcher.register(DescribeClusterHandler(broker: context))
        dispatcher.register(FindCoordinatorHandler(broker: context))
        dispatcher.register(JoinGroupHandler(groups: groups))
        dispatcher.register(SyncGroupHandler(groups: groups))
        dispatcher.register(HeartbeatHandler(groups: groups))
        dispatcher.register(LeaveGroupHandler(groups: groups))
        dispatcher.register(OffsetCommitHandler(groups: groups, registry: context.registry))
        dispatcher.register(OffsetFetchHandler(groups: groups))
        dispatcher.register(ListGroupsHandler(groups: groups))
        dispatcher.register(DescribeGroupsHandler(groups: groups))
        dispatcher.register(DeleteGroupsHandler(groups: groups))
        dispatcher.register(OffsetDeleteHandler(groups: groups))
        dispatcher.register(DescribeProducersHandler(broker: context))
        dispatcher.register(WriteTxnMarkersHandler(broker: context))
        dispatcher.register(InitProducerIdHandler(producerIds: producerIds, transactions: transactions))
        dispatcher.register(AddPartitionsToTxnHandler(transactions: transactions))
        dispatcher.register(AddOffsetsToTxnHandler(transactions: transactions))
        dispatcher.register(EndTxnHandler(transactions: transactions))
        dispatcher.register(TxnOffsetCommitHandler(transactions: transactions, groups: groups, registry: context.registry))
        dispatcher.register(DescribeTransactionsHandler(transactions: transactions))
        dispatcher.register(ListTransactionsHandler(transactions: transactions))
        dispatcher.register(SaslHandshakeHandler())
        dispatcher.register(SaslAuthenticateHandler())
        dispatcher.register(DescribeUserScramCredentialsHandler(store: scram))
        dispatcher.register(AlterUserScramCredentialsHandler(store: scram))
        dispatcher.register(DescribeAclsHandler())
        dispatcher.register(CreateAclsHandler())
        dispatcher.register(DeleteAclsHandler())
        var withVersions = dispatcher
        withVersions.register(ApiVersionsHandler(supported: []))
        dispatcher.register(ApiVersionsHandler(supported: withVersions.supportedApis))
        return dispatcher
    }
}
