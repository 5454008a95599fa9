/// A `HOST:PORT` to listen on (`[::1]:9092` for IPv6). Unlike a bootstrap address the port is
/// required, and 0 asks the system for a free one.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(DaemonFailure) {
        let problem = DaemonFailure("expected HOST:PORT, got '\(text)'")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw problem
        }
        var host = Substring(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, !host.contains(" ") else { throw problem }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Where a client on this machine reaches a listener bound here: a wildcard address is
    /// reached through loopback.
    public var local: String {
        switch host {
        case "0.0.0.0": return "127.0.0.1:\(port)"
        case "::": return "[::1]:\(port)"
        default: return description
        }
    }

    /// Whether two listeners would take the same port (a wildcard address takes it on every
    /// address).
    func overlaps(_ other: ListenAddress) -> Bool {
        port != 0 && port == other.port && (host == other.host || ["0.0.0.0", "::"].contains(host) || ["0.0.0.0", "::"].contains(other.host))
    }
}
