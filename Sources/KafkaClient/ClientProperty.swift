import KafkaProtocol
import NIOCore

/// One Kafka-style setting being applied to a producer or consumer config: the parsers both
/// share, with errors that name the key.
struct ClientProperty {
    let key: String
    let raw: String

    var value: String { raw.trimmingWhitespace() }

    func nonNegativeInteger() throws(KafkaClientError) -> Int {
        guard let parsed = Int(value), parsed >= 0 else { throw .invalidArgument("\(key): '\(raw)' is not a non-negative integer") }
        return parsed
    }

    func milliseconds() throws(KafkaClientError) -> TimeAmount {
        .milliseconds(Int64(try nonNegativeInteger()))
    }

    func flag() throws(KafkaClientError) -> Bool {
        guard let parsed = Bool(value) else { throw .invalidArgument("\(key): '\(raw)' is not true or false") }
        return parsed
    }

    /// Each setting in key order (errors are then reported the same way every time).
    static func each(_ properties: [String: String]) -> [ClientProperty] {
        properties.sorted { $0.key < $1.key }.map { ClientProperty(key: $0.key, raw: $0.value) }
    }
}
