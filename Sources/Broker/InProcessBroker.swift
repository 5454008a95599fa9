import KafkaProtocol
import Logging
import NIOCore

/// A broker's whole request path without sockets: the dispatcher with every handler, the
/// coordinators and the logs over a data directory. The coverage-guided fuzzer and the
/// dispatcher's tests feed it frames; nothing listens, nothing else is started.
public final class InProcessBroker: Sendable {
    public let dispatcher: RequestDispatcher
    let context: BrokerContext

    public init(config: BrokerConfig, logger: Logger = Logger(label: "strait.broker")) async throws {
        let registry = try TopicRegistry(config: config, cleanShutdown: true, nowMs: WallClock.nowMs())
        context = BrokerContext(config: config, clusterId: "in-process", registry: registry)
        do {
            let groups = try GroupCoordinator(log: GroupMetadataLog(registry: registry, nowMs: WallClock.nowMs()),
                                              settings: BrokerService.groupSettings(config), logger: logger)
            let producerIds = ProducerIdAllocator(dataDirectory: config.dataDirectory)
            let transactions = try TransactionCoordinator(broker: context, groups: groups, producerIds: producerIds,
                                                          log: TransactionLog(registry: registry, nowMs: WallClock.nowMs()), logger: logger)
            await transactions.recover()
            var dispatcher = BrokerService.dispatcher(for: context, groups: groups, transactions: transactions, producerIds: producerIds,
                                                      scram: try ScramCredentialStore(dataDirectory: config.dataDirectory))
            dispatcher.authorizer = try BrokerService.authorizer(config)
            self.dispatcher = dispatcher
        } catch {
            registry.closeAll()
            throw error
        }
    }

    /// One request frame (header and body, without the size prefix) to its outcome.
    public func process(_ frame: ByteBuffer) async -> RequestDispatcher.Outcome {
        await dispatcher.process(frame, clientHost: "/127.0.0.1", listenerName: "PLAINTEXT")
    }

    public func close() {
        context.registry.closeAll()
    }
}
