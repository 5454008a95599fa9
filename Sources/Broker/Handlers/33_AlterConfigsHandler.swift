import KafkaProtocol
import KafkaSecurity

/// 33 AlterConfigs (the legacy, whole-set form): the given configs replace every override of
/// the resource.
struct AlterConfigsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async -> AlterConfigsResponse {
        AlterConfigsResponse(responses: request.resources.map { resource in
            if let denied = context.configDenial(.alterConfigs, resourceType: resource.resourceType, name: resource.resourceName) {
                return .init(errorCode: denied.rawValue, errorMessage: "Authorization failed.", resourceType: resource.resourceType, resourceName: resource.resourceName)
            }
            var values: [String: String] = [:]
            for config in resource.configs { if let value = config.value { values[config.name] = value } }
            let error = ConfigAlteration(broker: broker).apply(resourceType: resource.resourceType, name: resource.resourceName,
                                                              validateOnly: request.validateOnly) { _ in values }
            return .init(errorCode: error?.code.rawValue ?? 0, errorMessage: error?.message, resourceType: resource.resourceType, resourceName: resource.resourceName)
        })
    }
}
