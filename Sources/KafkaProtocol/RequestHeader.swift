import NIOCore

/// The request header (kafka.apache.org/protocol, "Headers").
///
/// v0 has no client id; v1 adds a nullable client id, which stays a classic INT16-prefixed
/// string even in v2 (the one exception to KIP-482's compact strings); v2 adds tagged fields.
public struct RequestHeader: Equatable, Sendable {
    public var requestApiKey: Int16
    public var requestApiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    public var unknownTaggedFields: [TaggedField]

    public init(requestApiKey: Int16, requestApiVersion: Int16, correlationId: Int32, clientId: String? = nil, unknownTaggedFields: [TaggedField] = []) {
        self.requestApiKey = requestApiKey
        self.requestApiVersion = requestApiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.unknownTaggedFields = unknownTaggedFields
    }

    /// The header version a request of this API and version uses: 2 for flexible versions, else 1.
    /// Unknown APIs get 1, which is enough to read the correlation id and answer with an error.
    public static func version(apiKey: Int16, apiVersion: Int16) -> Int16 {
        guard let key = ApiKey(rawValue: apiKey) else { return 1 }
        return key.requestType.isFlexible(apiVersion) ? 2 : 1
    }

    /// Decodes a header whose version is chosen from the API key and version it starts with.
    public init(from buffer: inout ByteBuffer) throws(KafkaCodecError) {
        var peek = buffer
        let key: Int16 = try peek.readKafkaInteger("RequestApiKey")
        let version: Int16 = try peek.readKafkaInteger("RequestApiVersion")
        try self.init(from: &buffer, headerVersion: Self.version(apiKey: key, apiVersion: version))
    }

    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws(KafkaCodecError) {
        requestApiKey = try buffer.readKafkaInteger("RequestApiKey")
        requestApiVersion = try buffer.readKafkaInteger("RequestApiVersion")
        correlationId = try buffer.readKafkaInteger("CorrelationId")
        clientId = headerVersion >= 1 ? try buffer.readKafkaNullableString("ClientId", compact: false) : nil
        unknownTaggedFields = []
        if headerVersion >= 2 {
            unknownTaggedFields = try buffer.readTaggedFieldSection()
        }
    }

    public func encode(into buffer: inout ByteBuffer, headerVersion: Int16) {
        buffer.writeInteger(requestApiKey)
        buffer.writeInteger(requestApiVersion)
        buffer.writeInteger(correlationId)
        if headerVersion >= 1 {
            buffer.writeKafkaString(clientId, compact: false)
        }
        if headerVersion >= 2 {
            buffer.writeTaggedFields([], unknown: unknownTaggedFields)
        }
    }
}
