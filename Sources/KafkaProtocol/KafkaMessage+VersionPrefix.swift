import NIOCore

/// Payloads that carry their own INT16 version in front of the body: the consumer protocol's
/// subscription and assignment, embedded as bytes in JoinGroup and SyncGroup.
extension KafkaMessage {
    /// Reads the version prefix and the body. A newer version than we know is read as our
    /// newest: the consumer protocol only ever appends fields, so older readers stay correct
    /// (this is how Java's ConsumerProtocol reads newer members' metadata).
    public static func decodeWithVersionPrefix(from buffer: ByteBuffer) throws(KafkaCodecError) -> (version: Int16, message: Self) {
        var copy = buffer
        let version: Int16 = try copy.readKafkaInteger("Version")
        guard version >= supportedVersions.lowerBound else {
            throw .unsupportedVersion(apiKey: -1, version: version)
        }
        let readAs = min(version, supportedVersions.upperBound)
        return (version, try Self(from: &copy, version: readAs))
    }

    public func encodedWithVersionPrefix(version: Int16) throws(KafkaCodecError) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(version)
        try encode(into: &buffer, version: version)
        return buffer
    }
}
