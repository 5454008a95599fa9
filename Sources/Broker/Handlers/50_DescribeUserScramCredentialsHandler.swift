import KafkaProtocol
import KafkaSecurity

/// 50 DescribeUserScramCredentials (KIP-554): which mechanisms each user has, with iterations;
/// never salts or keys.
struct DescribeUserScramCredentialsHandler: ApiHandler {
    let store: ScramCredentialStore

    func handle(_ request: DescribeUserScramCredentialsRequest, context: RequestContext) async -> DescribeUserScramCredentialsResponse {
        guard context.allowsCluster(.describe) else {
            return DescribeUserScramCredentialsResponse(errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
        }
        let all = Dictionary(store.users().map { ($0.user, $0.credentials) }, uniquingKeysWith: { first, _ in first })
        func result(_ user: String, _ credentials: [ScramCredential]) -> DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult {
            .init(user: user, errorCode: 0, errorMessage: nil,
                  credentialInfos: credentials.map { .init(mechanism: $0.mechanism.wireType, iterations: Int32($0.iterations)) })
        }
        guard let requested = request.users, !requested.isEmpty else {
            return DescribeUserScramCredentialsResponse(errorCode: 0, errorMessage: nil,
                                                        results: all.keys.sorted().map { result($0, all[$0]!) })
        }
        var counts: [String: Int] = [:]
        for user in requested { counts[user.name, default: 0] += 1 }
        var seen = Set<String>()
        var results: [DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult] = []
        for user in requested.map(\.name) where seen.insert(user).inserted {
            if counts[user]! > 1 {
                results.append(.init(user: user, errorCode: ErrorCode.duplicateResource.rawValue,
                                     errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request: \(user)"))
            } else if let credentials = all[user] {
                results.append(result(user, credentials))
            } else {
                results.append(.init(user: user, errorCode: ErrorCode.resourceNotFound.rawValue,
                                     errorMessage: "Attempt to describe a user credential that does not exist: \(user)"))
            }
        }
        return DescribeUserScramCredentialsResponse(errorCode: 0, errorMessage: nil, results: results)
    }
}
