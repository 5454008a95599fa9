import KafkaProtocol
import KafkaSecurity

/// 20 DeleteTopics: by name, or by topic id from v6.
struct DeleteTopicsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async -> DeleteTopicsResponse {
        let targets: [(name: String?, id: KafkaUUID)] = context.apiVersion >= 6
            ? request.topics.map { ($0.name, $0.topicId) }
            : request.topicNames.map { ($0, KafkaUUID.zero) }
        return DeleteTopicsResponse(responses: targets.map { target in
            var result = DeleteTopicsResponse.DeletableTopicResult(name: target.name, topicId: target.id)
            let name = target.name ?? broker.registry.topic(id: target.id)?.metadata.name
            guard let name else {
                result.errorCode = ErrorCode.unknownTopicId.rawValue
                result.errorMessage = "Topic id \(target.id) does not exist."
                return result
            }
            result.name = name
            guard context.allows(.delete, .topic, name) else {
                result.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                return result
            }
            if broker.registry.brokerProperty("delete.topic.enable")?.value == "false" {
                result.errorCode = ErrorCode.topicDeletionDisabled.rawValue
                return result
            }
            do throws(KafkaError) {
                result.topicId = try broker.registry.delete(name: name)
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            return result
        })
    }
}
