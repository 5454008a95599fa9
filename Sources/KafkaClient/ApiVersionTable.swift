import KafkaProtocol

/// The version of each API to use with one broker: the highest that both the broker (from its
/// ApiVersions answer) and this codec support, so the client works with brokers older or newer
/// than itself.
struct ApiVersionTable: Sendable {
    private var versions: [Int16: Int16] = [:]

    init(_ response: ApiVersionsResponse) {
        for entry in response.apiKeys {
            guard let key = ApiKey(rawValue: entry.apiKey) else { continue }
            let ours = key.requestType.supportedVersions
            let high = min(ours.upperBound, entry.maxVersion)
            if high >= max(ours.lowerBound, entry.minVersion) { versions[entry.apiKey] = high }
        }
    }

    func version(_ key: ApiKey) -> Int16? { versions[key.rawValue] }
}
