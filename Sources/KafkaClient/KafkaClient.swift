import KafkaProtocol

/// Strait's Kafka client for any Kafka-protocol cluster; built in the "KafkaClient" issue.
public enum KafkaClient {}
