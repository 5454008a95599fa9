import KafkaProtocol
import KafkaSecurity

/// 44 IncrementalAlterConfigs: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on the current
/// overrides, the last two for list-valued configs.
struct IncrementalAlterConfigsHandler: ApiHandler {
    let broker: BrokerContext

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse(responses: request.resources.map { resource in
            if let denied = context.configDenial(.alterConfigs, resourceType: resource.resourceType, name: resource.resourceName) {
                return .init(errorCode: denied.rawValue, errorMessage: "Authorization failed.", resourceType: resource.resourceType, resourceName: resource.resourceName)
            }
            let error = ConfigAlteration(broker: broker).apply(resourceType: resource.resourceType, name: resource.resourceName,
                                                              validateOnly: request.validateOnly) { current throws(KafkaError) in
                var values = current
                for config in resource.configs {
                    switch config.configOperation {
                    case 0:
                        guard let value = config.value else { throw KafkaError(.invalidRequest, "Null value not supported for : \(config.name)") }
                        values[config.name] = value
                    case 1:
                        values[config.name] = nil
                    case 2, 3:
                        let existing = (values[config.name] ?? "").split(separator: ",").map(String.init)
                        let change = (config.value ?? "").split(separator: ",").map(String.init)
                        let merged = config.configOperation == 2 ? existing + change.filter { !existing.contains($0) } : existing.filter { !change.contains($0) }
                        values[config.name] = merged.joined(separator: ",")
                    default:
                        throw KafkaError(.invalidRequest, "Unknown config operation \(config.configOperation)")
                    }
                }
                return values
            }
            return .init(errorCode: error?.code.rawValue ?? 0, errorMessage: error?.message, resourceType: resource.resourceType, resourceName: resource.resourceName)
        })
    }
}
