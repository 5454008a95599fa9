import KafkaProtocol
import LogStore

/// A failure the broker reports to the client: a Kafka error code and, where the API carries
/// one, a message.
public struct KafkaError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String?

    public init(_ code: ErrorCode, _ message: String? = nil) {
        self.code = code
        self.message = message
    }

    /// The error code a log failure means to a client.
    public init(_ error: LogStoreError) {
        switch error {
        case .offsetOutOfRange: self.init(.offsetOutOfRange, error.description)
        case .messageTooLarge: self.init(.messageTooLarge, error.description)
        case .corruptBatch: self.init(.corruptMessage, error.description)
        case .invalidRecord: self.init(.invalidRecord, error.description)
        case .invalidTimestamp: self.init(.invalidTimestamp, error.description)
        case .invalidProducerEpoch: self.init(.invalidProducerEpoch, error.description)
        case .outOfOrderSequence: self.init(.outOfOrderSequenceNumber, error.description)
        case .closed: self.init(.notLeaderOrFollower, error.description)
        case .io: self.init(.kafkaStorageError, error.description)
        }
    }
}
