import KafkaProtocol

/// The on-disk log of one site's partitions. Segments, indexes and recovery arrive with
/// "Broker I"; this namespace exists so that the layering of DESIGN.md is fixed from the start.
public enum LogStore {}
