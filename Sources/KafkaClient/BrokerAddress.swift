import KafkaProtocol

/// A broker's `host:port`, as given in `bootstrap.servers` or advertised in Metadata.
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port`, or a bare host (port 9092, Kafka's default).
    public init(parsing text: String) throws(KafkaClientError) {
        let trimmed = text.trimmingWhitespace()
        var host = trimmed
        var port = 9092
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let parsed = Int(rest.dropFirst()) else { throw .invalidArgument("bad port in broker address '\(text)'") }
                port = parsed
            }
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = String(trimmed[..<colon])
            guard let parsed = Int(trimmed[trimmed.index(after: colon)...]) else { throw .invalidArgument("bad port in broker address '\(text)'") }
            port = parsed
        }
        guard !host.isEmpty, (1...65535).contains(port) else { throw .invalidArgument("bad broker address '\(text)'") }
        self.host = host
        self.port = port
    }

    /// A comma-separated `bootstrap.servers` list.
    public static func list(_ text: String) throws(KafkaClientError) -> [BrokerAddress] {
        var result: [BrokerAddress] = []
        for part in text.split(separator: ",") where !String(part).trimmingWhitespace().isEmpty {
            result.append(try BrokerAddress(parsing: String(part)))
        }
        guard !result.isEmpty else { throw .invalidArgument("empty bootstrap server list") }
        return result
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
