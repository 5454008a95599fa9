import KafkaProtocol
import NIOConcurrencyHelpers

/// `max.connections` and `max.connections.per.ip` (with `max.connections.per.ip.overrides`),
/// counted across every listener of the broker. A connection over either limit is closed as soon
/// as it is accepted, as Kafka does: the client sees the connection drop and retries elsewhere or later.
final class ConnectionLimits: Sendable {
    let total: Int
    let perAddress: Int
    let overrides: [String: Int]
    private let open = NIOLockedValueBox<(total: Int, byAddress: [String: Int])>((0, [:]))

    init(config: BrokerConfig) throws(BrokerConfigError) {
        total = Int(config.long("max.connections"))
        perAddress = Int(config.long("max.connections.per.ip"))
        overrides = try Self.overrides(config.properties["max.connections.per.ip.overrides"] ?? "")
    }

    /// Kafka's `host:count,host:count` list.
    static func overrides(_ text: String) throws(BrokerConfigError) -> [String: Int] {
        var result: [String: Int] = [:]
        for item in text.split(separator: ",") {
            let entry = String(item).trimmingWhitespace()
            guard let colon = entry.lastIndex(of: ":"), let count = Int(entry[entry.index(after: colon)...]), count >= 0,
                  colon != entry.startIndex else {
                throw .invalidValue("max.connections.per.ip.overrides", "max.connections.per.ip.overrides: '\(entry)' is not host:count")
            }
            result[String(entry[..<colon])] = count
        }
        return result
    }

    /// Counts a new connection from `address` (an IP literal), or refuses it with the limit it hits.
    func admit(_ address: String) -> String? {
        let allowed = overrides[address] ?? perAddress
        return open.withLockedValue { open in
            if open.total >= total { return "max.connections=\(total) reached" }
            let current = open.byAddress[address, default: 0]
            if current >= allowed { return "max.connections.per.ip=\(allowed) reached for \(address)" }
            open.total += 1
            open.byAddress[address] = current + 1
            return nil
        }
    }

    func release(_ address: String) {
        open.withLockedValue { open in
            open.total -= 1
            let left = open.byAddress[address, default: 1] - 1
            open.byAddress[address] = left > 0 ? left : nil
        }
    }
}
