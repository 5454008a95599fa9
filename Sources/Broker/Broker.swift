import KafkaProtocol
import LogStore

/// Request handlers and the server of an embedded site; built in "Broker I".
public enum Broker {}
