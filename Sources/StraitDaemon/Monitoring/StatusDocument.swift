import Mirror

/// `/status`: the daemon as JSON, what the status page, `strait status` and the demo's view
/// show. Field names are part of the interface (docs/metrics.md lists them).
public struct StatusDocument: Sendable, Codable, Equatable {
    public struct Site: Sendable, Codable, Equatable {
        public var name: String
        public var embedded: Bool
        public var address: String
        public var dataDir: String?
        /// starting, listening, failed or stopped for an embedded site; external otherwise.
        public var state: String
        public var error: String?
        public var topics: Int?
        public var partitions: Int?
        public var logBytes: Int64?
        public var groups: Int?
        public var connections: Int?
    }

    public struct Partition: Sendable, Codable, Equatable {
        public var topic: String
        public var partition: Int32
        public var targetTopic: String
        public var sourceEnd: Int64?
        public var position: Int64?
        public var lag: Int64?
        public var records: Int64
        public var bytes: Int64
        public var recordRate: Double
        public var latencyP99Ms: Double?
    }

    public struct Group: Sendable, Codable, Equatable {
        public var group: String
        public var lastCheckpointMs: Int64
        public var partitions: Int
    }

    public struct Alarm: Sendable, Codable, Equatable {
        public var topic: String
        public var partition: Int32
        public var message: String
        public var stopped: Bool
    }

    public struct Flow: Sendable, Codable, Equatable {
        public var flow: String
        public var source: String
        public var target: String
        public var records: Int64
        public var bytes: Int64
        public var recordRate: Double
        public var byteRate: Double
        public var lag: Int64
        public var latencyP99Ms: Double?
        public var lastCheckpointMs: Int64?
        public var batchesForwarded: Int64
        public var batchesRewritten: Int64
        public var recordsSkipped: Int64
        public var restarts: Int64
        public var dataLossEvents: Int64
        public var assignedPartitions: Int
        public var topics: Int
        public var checkpoints: Int64
        public var heartbeats: Int64
        public var offsetMapRuns: Int
        public var partitions: [Partition]
        public var groups: [Group]
        public var alarms: [Alarm]
    }

    public struct Event: Sendable, Codable, Equatable {
        public var timeMs: Int64
        public var level: String
        public var source: String
        public var message: String
    }

    /// One point of the charts: per flow, its lag and p99 latency, and per partition the same.
    public struct Sample: Sendable, Codable, Equatable {
        public struct Point: Sendable, Codable, Equatable {
            public var lag: Int64
            public var latencyP99Ms: Double?
            public var recordRate: Double
        }

        public var timeMs: Int64
        public var flows: [String: Point]
        /// Keyed `flow topic-partition`.
        public var partitions: [String: Point]
    }

    public var version: String
    public var startedMs: Int64
    public var nowMs: Int64
    public var ready: Bool
    public var notReady: [String]
    public var http: String?
    public var sites: [Site]
    public var flows: [Flow]
    /// Recent warnings and errors, oldest first.
    public var events: [Event]
    public var lastError: Event?
    public var history: [Sample]
}
