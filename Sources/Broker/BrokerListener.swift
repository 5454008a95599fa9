import KafkaProtocol
import KafkaSecurity

/// One named listener of a broker (`listeners=SASL_SSL://0.0.0.0:9094`): where it binds, the
/// security it requires, and the address clients that connect through it are given in metadata.
public struct BrokerListener: Sendable, Equatable {
    /// The listener's name, upper case as Kafka writes it (`PLAINTEXT`, `CLIENT`).
    public var name: String
    public var securityProtocol: SecurityProtocol
    public var host: String
    public var port: Int
    public var advertisedHost: String
    public var advertisedPort: Int

    public init(name: String, securityProtocol: SecurityProtocol, host: String, port: Int,
                advertisedHost: String? = nil, advertisedPort: Int? = nil) {
        self.name = name
        self.securityProtocol = securityProtocol
        self.host = host
        self.port = port
        self.advertisedHost = advertisedHost ?? host
        self.advertisedPort = advertisedPort ?? port
    }

    /// `NAME://HOST:PORT` entries, comma separated. An empty host means every interface
    /// (bound as 0.0.0.0), as in Kafka. `protocolMap` is `listener.security.protocol.map`;
    /// without an entry a listener's name must itself be a security protocol.
    static func parse(_ text: String, key: String, protocolMap: [String: SecurityProtocol]) throws(BrokerConfigError) -> [(name: String, protocol: SecurityProtocol, host: String, port: Int)] {
        var result: [(name: String, protocol: SecurityProtocol, host: String, port: Int)] = []
        for item in text.split(separator: ",") {
            let entry = String(item).trimmingWhitespace()
            guard let separator = entry.range(of: "://") else {
                throw .invalidValue(key, "\(key): expected NAME://HOST:PORT, got '\(entry)'")
            }
            let name = entry[..<separator.lowerBound].uppercased()
            let address = entry[separator.upperBound...]
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
                throw .invalidValue(key, "\(key): expected NAME://HOST:PORT, got '\(entry)'")
            }
            var host = String(address[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard let securityProtocol = protocolMap[name] ?? SecurityProtocol(rawValue: name) else {
                throw .invalidValue(key, "\(key): listener \(name) has no security protocol: add it to listener.security.protocol.map (for example \(name):SASL_SSL)")
            }
            guard !result.contains(where: { $0.name == name }) else {
                throw .invalidValue(key, "\(key): listener \(name) is named twice")
            }
            result.append((name, securityProtocol, host, port))
        }
        guard !result.isEmpty else { throw .invalidValue(key, "\(key): no listener given") }
        return result
    }

    /// `listener.security.protocol.map`: `NAME:PROTOCOL` pairs.
    static func protocolMap(_ text: String) throws(BrokerConfigError) -> [String: SecurityProtocol] {
        var map: [String: SecurityProtocol] = [:]
        for item in text.split(separator: ",") {
            let pair = item.split(separator: ":", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard pair.count == 2, let securityProtocol = SecurityProtocol(name: pair[1]) else {
                throw .invalidValue("listener.security.protocol.map",
                                    "listener.security.protocol.map: expected NAME:PROTOCOL with PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got '\(item)'")
            }
            map[pair[0].uppercased()] = securityProtocol
        }
        return map
    }
}
