/// Why bytes could not be decoded into a Kafka message, or a message could not be encoded.
///
/// Decoding never traps and never allocates on the strength of a length it has not checked:
/// every problem with untrusted bytes surfaces as one of these cases.
public enum KafkaCodecError: Error, Equatable, Sendable {
    /// The message ended before `field` was complete.
    case truncated(field: String)
    /// A length or element count is negative (other than the null marker) or exceeds the bytes left.
    case invalidLength(field: String, length: Int64)
    /// A varint ran past its maximum width.
    case malformedVarint
    /// `null` where the version does not allow it (decoding), or a nil value the version cannot carry (encoding).
    case unexpectedNull(field: String)
    /// The API key or version is not one this codec implements.
    case unsupportedVersion(apiKey: Int16, version: Int16)
    /// A frame's size prefix is negative or larger than the configured maximum.
    case frameTooLarge(size: Int64, limit: Int)
    /// Bytes that cannot be what they claim to be (bad magic, bad CRC, inconsistent counts...).
    case corrupt(String)
    /// A codec is not available in this process (for example its shared library is missing).
    case compressionUnavailable(String)
}

extension KafkaCodecError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let field): return "message truncated in \(field)"
        case .invalidLength(let field, let length): return "invalid length \(length) for \(field)"
        case .malformedVarint: return "malformed varint"
        case .unexpectedNull(let field): return "null is not allowed for \(field) in this version"
        case .unsupportedVersion(let key, let version): return "unsupported version \(version) of API key \(key)"
        case .frameTooLarge(let size, let limit): return "frame size \(size) outside 0...\(limit)"
        case .corrupt(let why): return "corrupt data: \(why)"
        case .compressionUnavailable(let why): return why
        }
    }
}
