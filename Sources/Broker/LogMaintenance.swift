import KafkaProtocol
import LogStore
import Logging

/// Background work on the logs: compaction and retention every
/// `log.retention.check.interval.ms`, and the `flush.ms` policy checked every second. Ends
/// when its task is cancelled.
struct LogMaintenance {
    let registry: TopicRegistry
    let config: BrokerConfig
    let logger: Logger

    func run() async {
        let retentionInterval = max(1_000, config.long("log.retention.check.interval.ms"))
        var lastRetention = WallClock.nowMs()
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            let now = WallClock.nowMs()
            for topic in registry.allTopics() {
                for log in topic.partitions {
                    do {
                        try log.flushIfDue(nowMs: now)
                        if now - lastRetention >= retentionInterval {
                            log.expireProducers(nowMs: now, expirationMs: config.long("producer.id.expiration.ms"))
                            let compacted = try log.compact(nowMs: now)
                            if compacted > 0 {
                                logger.info("compacted segments", metadata: ["partition": "\(log.topic)-\(log.partition)", "segments": "\(compacted)"])
                            }
                            let deleted = try log.enforceRetention(nowMs: now)
                            if deleted > 0 {
                                logger.info("retention deleted segments", metadata: ["partition": "\(log.topic)-\(log.partition)", "segments": "\(deleted)"])
                            }
                        }
                    } catch {
                        logger.error("log maintenance failed", metadata: ["partition": "\(log.topic)-\(log.partition)", "error": "\(error)"])
                    }
                }
            }
            if now - lastRetention >= retentionInterval { lastRetention = now }
        }
    }
}
