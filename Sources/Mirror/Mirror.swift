import KafkaClient

/// Replication flows between clusters; built in "Mirror I" and "Mirror II".
public enum Mirror {}
