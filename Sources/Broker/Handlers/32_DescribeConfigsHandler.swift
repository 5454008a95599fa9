import KafkaProtocol
import KafkaSecurity

/// 32 DescribeConfigs: topic (resource type 2) and broker (4) configs with their sources and,
/// on request, synonyms and documentation.
struct DescribeConfigsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) async -> DescribeConfigsResponse {
        let describer = ConfigDescriber(registry: broker.registry)
        return DescribeConfigsResponse(results: request.resources.map { resource in
            var result = DescribeConfigsResponse.DescribeConfigsResult(errorMessage: nil, resourceType: resource.resourceType, resourceName: resource.resourceName)
            if let denied = context.configDenial(.describeConfigs, resourceType: resource.resourceType, name: resource.resourceName) {
                result.errorCode = denied.rawValue
                result.errorMessage = "Authorization failed."
                return result
            }
            let entries: [ConfigDescriber.Entry]
            switch resource.resourceType {
            case ConfigDescriber.topicResource:
                guard let topic = broker.registry.topic(named: resource.resourceName) else {
                    result.errorCode = ErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "Topic \(resource.resourceName) does not exist."
                    return result
                }
                entries = describer.topicEntries(topic.metadata)
            case ConfigDescriber.brokerResource:
                guard resource.resourceName.isEmpty || resource.resourceName == String(broker.nodeId) else {
                    result.errorCode = ErrorCode.invalidRequest.rawValue
                    result.errorMessage = "Unexpected broker id, expected \(broker.nodeId) or empty string, but received \(resource.resourceName)"
                    return result
                }
                entries = describer.brokerEntries()
            default:
                result.errorCode = ErrorCode.invalidRequest.rawValue
                result.errorMessage = "Unsupported resource type \(resource.resourceType)"
                return result
            }
            let wanted = resource.configurationKeys.map(Set.init)
            result.configs = entries.filter { wanted?.contains($0.name) ?? true }.map { entry in
                .init(name: entry.name, value: entry.value, readOnly: entry.readOnly, configSource: entry.source.rawValue, isSensitive: false,
                      synonyms: request.includeSynonyms ? entry.synonyms.map { .init(name: $0.0, value: $0.1, source: $0.2.rawValue) } : [],
                      configType: entry.type, documentation: nil)
            }
            return result
        })
    }
}
