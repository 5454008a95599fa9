import KafkaProtocol
import NIOCore

/// Producer settings, named and defaulted as in Kafka's Java producer (4.x).
public struct ProducerConfig: Sendable {
    /// `acks`: -1 (all), 1 (leader) or 0 (no answer).
    public var acks: Int16 = -1
    /// `linger.ms`: how long a batch waits for more records before it is sent.
    public var linger: TimeAmount = .milliseconds(5)
    /// `batch.size`: a batch is sent once its uncompressed size reaches this.
    public var batchSize = 16384
    /// `compression.type`.
    public var compression: CompressionCodec = .none
    /// `enable.idempotence`: on by default, as in Kafka 3+; needs acks=all.
    public var enableIdempotence = true
    /// `max.in.flight.requests.per.connection` (at most 5 with idempotence, KIP-98).
    public var maxInFlightRequestsPerConnection = 5
    /// `buffer.memory`: bytes of records waiting to be sent; `send` waits above it.
    public var bufferMemory = 32 * 1024 * 1024
    /// `max.block.ms`: how long `send` may wait for buffer space or metadata.
    public var maxBlock: TimeAmount = .seconds(60)
    /// `delivery.timeout.ms`: a record not acknowledged by then fails.
    public var deliveryTimeout: TimeAmount = .seconds(120)
    /// `max.request.size`.
    public var maxRequestSize = 1024 * 1024
    /// `request.timeout.ms` is the broker-side wait for acks=all, sent in each Produce request.
    public var produceTimeoutMs: Int32 = 30000

    public init() {}

    /// Applies Kafka producer properties (`acks`, `linger.ms`, ...). Unknown keys and bad values
    /// are errors naming the key; keys that only matter to the Java client are accepted.
    public mutating func apply(_ properties: [String: String]) throws(KafkaClientError) {
        for property in ClientProperty.each(properties) {
            let (key, raw, value) = (property.key, property.raw, property.value)
            switch key {
            case "acks":
                switch value {
                case "all", "-1": acks = -1
                case "1": acks = 1
                case "0": acks = 0
                default: throw .invalidArgument("acks: '\(raw)' is not all, -1, 0 or 1")
                }
            case "linger.ms": linger = try property.milliseconds()
            case "batch.size": batchSize = max(1, try property.nonNegativeInteger())
            case "compression.type":
                guard let codec = CompressionCodec(name: value) else { throw .invalidArgument("compression.type: '\(raw)' is not none, gzip, snappy, lz4 or zstd") }
                compression = codec
            case "enable.idempotence":
                enableIdempotence = try property.flag()
            case "max.in.flight.requests.per.connection": maxInFlightRequestsPerConnection = max(1, try property.nonNegativeInteger())
            case "buffer.memory": bufferMemory = try property.nonNegativeInteger()
            case "max.block.ms": maxBlock = try property.milliseconds()
            case "delivery.timeout.ms": deliveryTimeout = try property.milliseconds()
            case "max.request.size": maxRequestSize = try property.nonNegativeInteger()
            case "request.timeout.ms": produceTimeoutMs = Int32(clamping: try property.nonNegativeInteger())
            case "retries", "retry.backoff.ms", "client.id", "bootstrap.servers", "key.serializer", "value.serializer",
                 "partitioner.class", "send.buffer.bytes", "receive.buffer.bytes", "metadata.max.age.ms", "compression.gzip.level",
                 "compression.lz4.level", "compression.zstd.level", "client.dns.lookup",
                 "connections.max.idle.ms", "reconnect.backoff.ms", "reconnect.backoff.max.ms", "security.protocol", "interceptor.classes",
                 "metrics.recording.level", "partitioner.ignore.keys", "partitioner.adaptive.partitioning.enable":
                continue
            case "transactional.id", "transaction.timeout.ms":
                throw .invalidArgument("\(key): Strait's producer does not support transactions yet")
            default:
                throw .invalidArgument("\(key): unknown producer setting")
            }
        }
        if enableIdempotence {
            guard acks == -1 else { throw .invalidArgument("enable.idempotence=true needs acks=all") }
            guard maxInFlightRequestsPerConnection <= 5 else { throw .invalidArgument("enable.idempotence=true needs max.in.flight.requests.per.connection <= 5") }
        }
    }
}
