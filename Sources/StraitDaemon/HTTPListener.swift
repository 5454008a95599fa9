/// Where the daemon serves `/metrics` and `/status`, and where that was configured.
public struct HTTPListener: Sendable {
    public var host: String
    public var port: Int
    public var origin: ConfigOrigin

    public init(host: String, port: Int, origin: ConfigOrigin) {
        self.host = host
        self.port = port
        self.origin = origin
    }
}
