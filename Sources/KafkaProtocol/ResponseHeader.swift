import NIOCore

/// The response header: a correlation id, plus tagged fields in v1 (flexible responses).
///
/// ApiVersions responses always use v0 so that a client that does not yet know the broker's
/// versions can read the correlation id (KIP-511).
public struct ResponseHeader: Equatable, Sendable {
    public var correlationId: Int32
    public var unknownTaggedFields: [TaggedField]

    public init(correlationId: Int32, unknownTaggedFields: [TaggedField] = []) {
        self.correlationId = correlationId
        self.unknownTaggedFields = unknownTaggedFields
    }

    public static func version(apiKey: Int16, apiVersion: Int16) -> Int16 {
        guard let key = ApiKey(rawValue: apiKey), key != .apiVersions else { return 0 }
        return key.responseType.isFlexible(apiVersion) ? 1 : 0
    }

    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws(KafkaCodecError) {
        correlationId = try buffer.readKafkaInteger("CorrelationId")
        unknownTaggedFields = headerVersion >= 1 ? try buffer.readTaggedFieldSection() : []
    }

    public func encode(into buffer: inout ByteBuffer, headerVersion: Int16) {
        buffer.writeInteger(correlationId)
        if headerVersion >= 1 {
            buffer.writeTaggedFields([], unknown: unknownTaggedFields)
        }
    }
}
