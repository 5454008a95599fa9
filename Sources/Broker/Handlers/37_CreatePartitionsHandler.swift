import KafkaProtocol
import KafkaSecurity

/// 37 CreatePartitions: raises a topic's partition count (never lowers it).
struct CreatePartitionsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async -> CreatePartitionsResponse {
        CreatePartitionsResponse(results: request.topics.map { topic in
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name, errorMessage: nil)
            guard context.allows(.alter, .topic, topic.name) else {
                result.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                result.errorMessage = "Authorization failed."
                return result
            }
            if let assignments = topic.assignments, !assignments.allSatisfy({ $0.brokerIds == [broker.nodeId] }) {
                result.errorCode = ErrorCode.invalidReplicaAssignment.rawValue
                result.errorMessage = "Every new partition must be placed on broker \(broker.nodeId) alone."
                return result
            }
            do throws(KafkaError) {
                try broker.registry.addPartitions(name: topic.name, totalCount: topic.count, validateOnly: request.validateOnly, nowMs: broker.nowMs())
            } catch {
                result.errorCode = error.code.rawValue
                result.errorMessage = error.message
            }
            return result
        })
    }
}
