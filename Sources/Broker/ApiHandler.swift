import KafkaProtocol

/// Answers one Kafka API: a decoded request in, its response out. Handlers know nothing of
/// sockets, so tests call them directly.
public protocol ApiHandler: Sendable {
    associatedtype Request: KafkaRequest
    func handle(_ request: Request, context: RequestContext) async -> Request.Response
    /// False when the client expects no answer (Produce with acks=0).
    func expectsResponse(_ request: Request) -> Bool
}

extension ApiHandler {
    public func expectsResponse(_ request: Request) -> Bool { true }
}

/// Facts about the request being handled besides its body.
public struct RequestContext: Sendable {
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    /// The peer's address, as DescribeGroups reports members' hosts.
    public var clientHost: String
    /// The listener the request came through: metadata answers with that listener's address.
    public var listenerName: String
    /// Who sent it, in Kafka's `User:NAME` form (`User:ANONYMOUS` when nobody authenticated).
    public var principal: String

    public init(apiVersion: Int16, correlationId: Int32, clientId: String?, clientHost: String = "",
                listenerName: String = "", principal: String = RequestContext.anonymous) {
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.clientHost = clientHost
        self.listenerName = listenerName
        self.principal = principal
    }

    public static let anonymous = "User:ANONYMOUS"
}
