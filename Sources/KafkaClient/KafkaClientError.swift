import KafkaProtocol

/// Why a client operation failed. Broker answers keep Kafka's error code; transport problems
/// say which broker and what happened, so one line in a log is enough to act on.
public enum KafkaClientError: Error, Sendable, Equatable {
    /// The broker answered with an error code (`context` names the operation, topic or group).
    case broker(ErrorCode, context: String)
    /// An error code this client's table does not know.
    case unknownBrokerError(Int16, context: String)
    case connectionFailed(broker: String, reason: String)
    case connectionClosed(broker: String)
    /// The TLS handshake or the SASL login failed; retrying with the same settings cannot help.
    case authenticationFailed(broker: String, reason: String)
    case requestTimedOut(broker: String, api: String, timeoutMs: Int64)
    /// No version of the API is supported by both the broker and this client.
    case unsupportedVersion(broker: String, api: String)
    /// The broker sent bytes this client cannot decode.
    case codec(String)
    /// No leader is known for the partition after refreshing metadata.
    case leaderNotAvailable(topic: String, partition: Int32)
    /// The topic does not exist on the cluster.
    case unknownTopic(String)
    /// The log was truncated below the consumer's position (KIP-320): the caller decides.
    case logTruncation(topic: String, partition: Int32, position: Int64, divergingOffset: Int64)
    /// The position is outside the partition's log and no reset policy applies.
    case offsetOutOfRange(topic: String, partition: Int32, offset: Int64)
    /// The client (producer, consumer, admin) was closed.
    case closed
    /// A value supplied by the caller is not valid (`what` says which).
    case invalidArgument(String)
    /// The producer's buffer stayed full for `max.block.ms`.
    case bufferExhausted(timeoutMs: Int64)
    /// The idempotent or transactional producer hit an error it cannot recover from.
    case fatalProducerError(String)

    /// Throws for any code but NO_ERROR.
    static func check(_ code: Int16, _ context: @autoclosure () -> String) throws(KafkaClientError) {
        guard code != 0 else { return }
        throw from(code, context())
    }

    static func from(_ code: Int16, _ context: String) -> KafkaClientError {
        if let known = ErrorCode(rawValue: code) { return .broker(known, context: context) }
        return .unknownBrokerError(code, context: context)
    }

    /// Whether retrying (after a metadata refresh or a reconnect) may succeed.
    public var isRetriable: Bool {
        switch self {
        case .broker(let code, _): return code.isRetriable
        case .connectionFailed, .connectionClosed, .requestTimedOut, .leaderNotAvailable: return true
        default: return false
        }
    }

    /// Whether the error means the client's view of leaders is stale.
    var invalidatesMetadata: Bool {
        switch self {
        case .broker(let code, _):
            return [.notLeaderOrFollower, .leaderNotAvailable, .unknownTopicOrPartition, .fencedLeaderEpoch,
                    .unknownLeaderEpoch, .notCoordinator, .coordinatorNotAvailable].contains(code)
        case .connectionFailed, .connectionClosed, .requestTimedOut, .leaderNotAvailable: return true
        default: return false
        }
    }
}

extension KafkaClientError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .broker(let code, let context): return "\(context): \(code.kafkaName) (\(code.rawValue))"
        case .unknownBrokerError(let code, let context): return "\(context): broker error \(code)"
        case .connectionFailed(let broker, let reason): return "cannot connect to \(broker): \(reason)"
        case .connectionClosed(let broker): return "connection to \(broker) closed"
        case .authenticationFailed(let broker, let reason): return "cannot authenticate to \(broker): \(reason)"
        case .requestTimedOut(let broker, let api, let ms): return "\(api) request to \(broker) timed out after \(ms) ms"
        case .unsupportedVersion(let broker, let api): return "\(broker) supports no version of \(api) this client knows"
        case .codec(let why): return "cannot decode the broker's answer: \(why)"
        case .leaderNotAvailable(let topic, let partition): return "no leader for \(topic)-\(partition)"
        case .unknownTopic(let topic): return "unknown topic \(topic)"
        case .logTruncation(let topic, let partition, let position, let diverging):
            return "\(topic)-\(partition): log truncated below position \(position) (diverges at \(diverging))"
        case .offsetOutOfRange(let topic, let partition, let offset): return "\(topic)-\(partition): offset \(offset) out of range"
        case .closed: return "the client is closed"
        case .invalidArgument(let what): return what
        case .bufferExhausted(let ms): return "producer buffer full for \(ms) ms"
        case .fatalProducerError(let why): return "fatal producer error: \(why)"
        }
    }
}
