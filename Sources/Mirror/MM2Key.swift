/// The settings `mm2.properties` may hold, with how Strait reads each: MirrorMaker 2 accepts
/// every one of them, so Strait does too; those that change nothing here are logged once as
/// ignored, and anything else is an error naming the key.
enum MM2Key {
    enum Kind: Equatable {
        case flag
        /// A whole number at least `minimum`.
        case number(minimum: Int64)
        case text
        case choice([String])
        /// Accepted only at MirrorMaker 2's default class, which is what Strait implements.
        case defaultClass(String)
        /// Accepted and without effect in Strait.
        case ignored
    }

    /// Connector settings, valid at the top level (every flow) or as `A->B.<key>`.
    static let connector: [String: Kind] = [
        "enabled": .flag,
        "topics": .text, "topics.exclude": .text, "topics.blacklist": .text,
        "groups": .text, "groups.exclude": .text, "groups.blacklist": .text,
        "replication.policy.class": .text,
        "replication.policy.separator": .text,
        "replication.policy.internal.topic.separator.enabled": .flag,
        "replication.policy.template": .text,
        "sync.topic.configs.enabled": .flag, "sync.topic.configs.interval.seconds": .number(minimum: 1),
        "config.properties.exclude": .text, "config.properties.blacklist": .text,
        "refresh.topics.enabled": .flag, "refresh.topics.interval.seconds": .number(minimum: 1),
        "refresh.groups.enabled": .flag, "refresh.groups.interval.seconds": .number(minimum: 1),
        "emit.heartbeats.enabled": .flag, "emit.heartbeats.interval.seconds": .number(minimum: 1),
        "emit.checkpoints.enabled": .flag, "emit.checkpoints.interval.seconds": .number(minimum: 1),
        "sync.group.offsets.enabled": .flag, "sync.group.offsets.interval.seconds": .number(minimum: 1),
        "emit.offset-syncs.enabled": .flag,
        "offset-syncs.topic.location": .choice(["source", "target"]),
        "offset.lag.max": .number(minimum: 0),
        "tasks.max": .number(minimum: 1),
        "replication.factor": .number(minimum: -1),
        "offset-syncs.topic.replication.factor": .number(minimum: -1),
        "checkpoints.topic.replication.factor": .number(minimum: -1),
        "heartbeats.topic.replication.factor": .number(minimum: -1),
        "offset.storage.replication.factor": .number(minimum: -1),
        "consumer.poll.timeout.ms": .number(minimum: 1),
        "admin.timeout.ms": .number(minimum: 1),
        "offset.flush.interval.ms": .number(minimum: 1),
        // Strait's own: what a flow does when the source lost records it had not copied.
        "data.loss.policy": .choice(["stop", "skip"]),
        "topic.filter.class": .defaultClass("org.apache.kafka.connect.mirror.DefaultTopicFilter"),
        "group.filter.class": .defaultClass("org.apache.kafka.connect.mirror.DefaultGroupFilter"),
        "config.property.filter.class": .defaultClass("org.apache.kafka.connect.mirror.DefaultConfigPropertyFilter"),
        "sync.topic.acls.enabled": .flag, "sync.topic.acls.interval.seconds": .number(minimum: 1),
        "metric.reporters": .ignored, "add.source.alias.to.metrics": .ignored, "forwarding.admin.class": .ignored,
        "key.converter": .ignored, "value.converter": .ignored, "header.converter": .ignored,
        "exactly.once.source.support": .ignored, "exactly.once.support": .ignored, "transaction.boundary": .ignored,
        "offset.flush.timeout.ms": .ignored, "task.shutdown.graceful.timeout.ms": .ignored,
        "dedicated.mode.enable.internal.rest": .ignored, "listeners": .ignored, "config.providers": .ignored,
        "source.cluster.alias": .ignored, "target.cluster.alias": .ignored, "name": .ignored, "connector.class": .ignored,
        "use.defaults.from": .ignored, "group.id": .ignored,
        "offset.storage.topic": .ignored, "config.storage.topic": .ignored, "status.storage.topic": .ignored,
        "offset.storage.partitions": .ignored, "status.storage.partitions": .ignored,
        "config.storage.replication.factor": .ignored, "status.storage.replication.factor": .ignored,
        "scheduled.rebalance.max.delay.ms": .ignored, "connect.protocol": .ignored,
        "session.timeout.ms": .number(minimum: 1),
        "heartbeat.interval.ms": .number(minimum: 1), "rebalance.timeout.ms": .number(minimum: 1), "worker.sync.timeout.ms": .ignored,
        "worker.unsync.backoff.ms": .ignored, "metrics.num.samples": .ignored, "metrics.sample.window.ms": .ignored,
        "metrics.recording.level": .ignored, "auto.include.jmx.reporter": .ignored, "plugin.path": .ignored,
    ]

    /// Valid settings that change nothing: Strait writes an offset sync for every partition that
    /// moved at each progress flush and translates with its own map, so `offset.lag.max` has no
    /// role; it copies with one pipelined task per flow and agent whatever `tasks.max` says; and
    /// admin calls use the clusters' request timeout.
    static let withoutEffect: Set<String> = [
        "tasks.max", "admin.timeout.ms", "offset.lag.max",
    ]

    /// Prefixes of connector-level families MirrorMaker 2 passes to Connect (ignored here).
    static let ignoredPrefixes = ["config.providers.", "producer.override.", "consumer.override.", "admin.override.", "errors.",
                                  "rest.", "access.control.", "ssl.", "sasl.", "source.cluster.", "target.cluster."]

    /// Settings of one cluster (`<alias>.<key>`) that every client of that cluster gets.
    static let clusterClient: Set<String> = [
        "bootstrap.servers", "client.id", "request.timeout.ms", "retry.backoff.ms", "reconnect.backoff.ms",
        "reconnect.backoff.max.ms", "metadata.max.age.ms", "socket.connection.setup.timeout.ms", "security.protocol",
        "embedded.data.dir",
    ]

    /// Checks `value` against `kind`, returning an error message, or nil when it is acceptable.
    static func problem(_ value: String, for kind: Kind) -> String? {
        let trimmed = value.trimmingWhitespace()
        switch kind {
        case .flag:
            return Bool(trimmed.lowercased()) == nil ? "'\(value)' is not true or false" : nil
        case .number(let minimum):
            guard let number = Int64(trimmed), number >= minimum else { return "'\(value)' is not a whole number of at least \(minimum)" }
            return nil
        case .choice(let choices):
            return choices.contains(trimmed) ? nil : "'\(value)' is not one of \(choices.joined(separator: ", "))"
        case .defaultClass(let name):
            return trimmed == name ? nil : "'\(value)' is not supported: Strait implements \(name) only"
        case .text, .ignored:
            return nil
        }
    }
}
