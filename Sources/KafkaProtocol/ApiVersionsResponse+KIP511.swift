import NIOCore

/// KIP-511: a broker that does not support the ApiVersions version a client sent answers with
/// UNSUPPORTED_VERSION in a v0 body that still lists its APIs, so the client can retry with a
/// version both know. Clients therefore read an error response as v0 whatever they asked for.
extension ApiVersionsResponse {
    /// The API list Strait advertises: exactly the versions this codec implements.
    public static func supportedApiKeys() -> [ApiVersion] {
        ApiKey.allCases.map {
            ApiVersion(apiKey: $0.rawValue, minVersion: $0.supportedVersions.lowerBound, maxVersion: $0.supportedVersions.upperBound)
        }
    }

    /// The answer to an ApiVersions request of an unsupported version; encode it as v0.
    public static func unsupportedVersion() -> ApiVersionsResponse {
        ApiVersionsResponse(errorCode: ErrorCode.unsupportedVersion.rawValue, apiKeys: supportedApiKeys())
    }

    /// Decodes a response to a request of `requestVersion`, reading error bodies as v0.
    public static func decode(from buffer: ByteBuffer, requestVersion: Int16) throws(KafkaCodecError) -> ApiVersionsResponse {
        guard let errorCode = buffer.getInteger(at: buffer.readerIndex, as: Int16.self) else {
            throw .truncated(field: "ErrorCode")
        }
        let version = errorCode == ErrorCode.noError.rawValue ? requestVersion : 0
        var copy = buffer
        return try ApiVersionsResponse(from: &copy, version: version)
    }
}
