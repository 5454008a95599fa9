/// Where a config value comes from: DescribeConfigs v1+ `ConfigSource`, Kafka's wire values.
public enum ConfigSource: Int8, Sendable {
    case unknown = 0
    case dynamicTopicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
    case dynamicBrokerLoggerConfig = 6
}
