/// Where a config value comes from, as DescribeConfigs v1+ reports it.
public enum ConfigSource: Int8, Sendable {
    case unknown = 0
    case dynamicTopicConfig = 1
    case dynamicBrokerLoggerConfig = 2
    case dynamicBrokerConfig = 3
    case dynamicDefaultBrokerConfig = 4
    case staticBrokerConfig = 5
    case defaultConfig = 6
}
