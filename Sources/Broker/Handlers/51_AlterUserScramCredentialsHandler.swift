import KafkaProtocol
import KafkaSecurity

/// 51 AlterUserScramCredentials (KIP-554): the client salts and hashes the password itself and
/// sends the salted password; the broker keeps only the keys derived from it. Each user's
/// changes succeed or fail together, with Kafka's error codes.
struct AlterUserScramCredentialsHandler: ApiHandler {
    let store: ScramCredentialStore

    func handle(_ request: AlterUserScramCredentialsRequest, context: RequestContext) async -> AlterUserScramCredentialsResponse {
        guard context.allowsCluster(.alter) else {
            let users = (request.deletions.map(\.name) + request.upsertions.map(\.name)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            return AlterUserScramCredentialsResponse(results: users.map {
                .init(user: $0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
            })
        }
        var order: [String] = []
        var problems: [String: (ErrorCode, String)] = [:]
        var pairs: [String: Set<Int8>] = [:]
        func note(_ user: String, mechanism: Int8) {
            if !order.contains(user) { order.append(user) }
            if pairs[user, default: []].insert(mechanism).inserted == false, problems[user] == nil {
                problems[user] = (.duplicateResource, "A user credential cannot be altered twice in the same request")
            }
        }
        for deletion in request.deletions { note(deletion.name, mechanism: deletion.mechanism) }
        for upsertion in request.upsertions { note(upsertion.name, mechanism: upsertion.mechanism) }
        for deletion in request.deletions where problems[deletion.name] == nil {
            problems[deletion.name] = problem(user: deletion.name, mechanism: deletion.mechanism, iterations: nil)
                ?? (store.credential(user: deletion.name, mechanism: ScramMechanism(wireType: deletion.mechanism)!) == nil
                    ? (.resourceNotFound, "Attempt to delete a user credential that does not exist") : nil)
        }
        for upsertion in request.upsertions where problems[upsertion.name] == nil {
            problems[upsertion.name] = problem(user: upsertion.name, mechanism: upsertion.mechanism, iterations: Int(upsertion.iterations))
                ?? (upsertion.salt.readableBytes == 0 ? (.unacceptableCredential, "Empty salt") : nil)
                ?? (upsertion.saltedPassword.readableBytes == 0 ? (.unacceptableCredential, "Empty salted password") : nil)
        }
        for user in order where problems[user] == nil {
            do {
                for deletion in request.deletions where deletion.name == user {
                    try store.remove(user: user, mechanism: ScramMechanism(wireType: deletion.mechanism)!)
                }
                for upsertion in request.upsertions where upsertion.name == user {
                    let mechanism = ScramMechanism(wireType: upsertion.mechanism)!
                    try store.upsert(user: user, mechanism.credential(saltedPassword: Array(buffer: upsertion.saltedPassword),
                                                                      salt: Array(buffer: upsertion.salt), iterations: Int(upsertion.iterations)))
                }
            } catch {
                problems[user] = (error.code, error.message ?? "cannot store the credential")
            }
        }
        return AlterUserScramCredentialsResponse(results: order.map { user in
            let (code, message) = problems[user] ?? (.noError, nil)
            return .init(user: user, errorCode: code.rawValue, errorMessage: message)
        })
    }

    private func problem(user: String, mechanism: Int8, iterations: Int?) -> (ErrorCode, String)? {
        if user.isEmpty { return (.unacceptableCredential, "Username must not be empty") }
        if ScramMechanism(wireType: mechanism) == nil { return (.unsupportedSaslMechanism, "Unknown SCRAM mechanism") }
        if let iterations {
            if iterations < ScramMechanism.minimumIterations { return (.unacceptableCredential, "Too few iterations") }
            if iterations > ScramMechanism.maximumIterations { return (.unacceptableCredential, "Too many iterations") }
        }
        return nil
    }
}
