import KafkaProtocol

/// 18 ApiVersions: the APIs and versions this broker answers, exactly (KIP-511 for versions
/// it does not know is handled by the dispatcher, which must answer before decoding).
struct ApiVersionsHandler: ApiHandler {
    let supported: [(key: ApiKey, versions: ClosedRange<Int16>)]

    func handle(_ request: ApiVersionsRequest, context: RequestContext) async -> ApiVersionsResponse {
        ApiVersionsResponse(apiKeys: supported.map {
            .init(apiKey: $0.key.rawValue, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound)
        })
    }
}
