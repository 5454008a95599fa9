import NIOCore

/// The per-peer limits every listener of a broker shares (docs/broker.md, "Limits and faults").
struct ServerLimits: Sendable {
    let connections: ConnectionLimits
    let memory: RequestMemoryPool
    let permits: RequestPermits
    /// `connections.max.idle.ms`: a connection that moves no byte either way for this long is closed.
    let idleTimeout: TimeAmount
    let maximumFrameSize: Int

    init(config: BrokerConfig) throws(BrokerConfigError) {
        connections = try ConnectionLimits(config: config)
        memory = RequestMemoryPool(capacity: Int(config.long("queued.max.request.bytes")))
        permits = RequestPermits(count: Int(config.long("queued.max.requests")))
        idleTimeout = .milliseconds(config.long("connections.max.idle.ms"))
        maximumFrameSize = Int(config.long("socket.request.max.bytes"))
    }
}
