import KafkaClient
import Logging
import NIOCore
import ServiceLifecycle

/// The demo's own traffic on the first site: a topic `orders` with a steady trickle of records
/// (about 20 a second), and a consumer group `demo-readers` reading and committing them, so
/// that the flow has something to copy and checkpoints to write.
struct DemoTraffic: Service {
    static let topic = "orders"
    static let group = "demo-readers"
    static let recordsPerSecond = 20

    let monitor: DaemonMonitor
    let bootstrap: String

    func run() async throws {
        // Only once the sites listen and the flow runs.
        while !monitor.notReady.isEmpty {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
        }
        let logger = Logger(label: "strait.demo")
        let cluster = KafkaCluster(config: KafkaClientConfig(bootstrapServers: [try BrokerAddress(parsing: bootstrap)], clientId: "strait-demo"))
        let admin = KafkaAdmin(cluster: cluster)
        if !(try await admin.listTopics()).contains(Self.topic) {
            try? await admin.createTopic(.init(name: Self.topic, partitions: 3))
        }
        let producer = KafkaProducer(cluster: cluster)
        var readerConfig = ConsumerConfig(groupId: Self.group)
        readerConfig.autoOffsetReset = .earliest
        let reader = KafkaConsumer(cluster: KafkaCluster(config: cluster.config), config: readerConfig)
        try reader.subscribe(topics: [Self.topic])
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                await cancelWhenGracefulShutdown {
                    var order = 0
                    while !Task.isCancelled {
                        order += 1
                        let record = ProducerRecord(topic: Self.topic, key: ByteBuffer(string: "customer-\(order % 50)"),
                                                    value: ByteBuffer(string: #"{"order":\#(order),"amount":\#(order % 97 + 3)}"#))
                        do {
                            try await producer.send(record)
                        } catch {
                            logger.warning("demo producer: \(error)")
                        }
                        try? await Task.sleep(for: .milliseconds(1000 / Self.recordsPerSecond))
                    }
                }
            }
            tasks.addTask {
                await cancelWhenGracefulShutdown {
                    while !Task.isCancelled {
                        _ = try? await reader.poll(timeout: .milliseconds(500))
                        try? await reader.commit()
                    }
                }
            }
        }
        await producer.close()
        await reader.close()
        await cluster.close()
    }
}
