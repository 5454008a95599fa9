import NIOCore

/// A value with a Kafka wire encoding that depends on the message version: every generated
/// message and every struct nested in one.
public protocol KafkaStruct: Sendable, Equatable {
    init(from buffer: inout ByteBuffer, version: Int16) throws(KafkaCodecError)
    func encode(into buffer: inout ByteBuffer, version: Int16) throws(KafkaCodecError)
}

/// A top-level message: a request or response body, or a versioned payload such as the
/// consumer protocol's subscription.
public protocol KafkaMessage: KafkaStruct {
    /// The versions Strait implements (the codec rejects others).
    static var supportedVersions: ClosedRange<Int16> { get }
    /// The first version using KIP-482 compact encodings and tagged fields, if any is supported.
    static var firstFlexibleVersion: Int16? { get }
}

extension KafkaMessage {
    public static func isFlexible(_ version: Int16) -> Bool {
        guard let first = firstFlexibleVersion else { return false }
        return version >= first
    }

    /// Decodes a body that must fill `buffer` exactly: trailing bytes mean a version mismatch.
    public static func decodeComplete(from buffer: ByteBuffer, version: Int16) throws(KafkaCodecError) -> Self {
        var copy = buffer
        let message = try Self(from: &copy, version: version)
        guard copy.readableBytes == 0 else {
            throw .corrupt("\(copy.readableBytes) unexpected trailing bytes after \(Self.self) v\(version)")
        }
        return message
    }

    /// Decodes a request body, ignoring bytes after it: Kafka's broker does, and librdkafka
    /// 2.16 sends three such bytes after some Metadata v12 requests.
    public static func decodeLenient(from buffer: ByteBuffer, version: Int16) throws(KafkaCodecError) -> Self {
        var copy = buffer
        return try Self(from: &copy, version: version)
    }

    /// Encodes into a new buffer.
    public func encoded(version: Int16, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(KafkaCodecError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        try encode(into: &buffer, version: version)
        return buffer
    }
}

public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaResponse
    static var apiKey: ApiKey { get }
}

public protocol KafkaResponse: KafkaMessage {
    static var apiKey: ApiKey { get }
}
