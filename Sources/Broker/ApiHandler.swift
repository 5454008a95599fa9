import KafkaSecurity
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
    /// The ACL authorizer, when `authorizer.class.name` turns one on.
    public var authorizer: Authorizer?
    /// The broker's `queued.max.requests` slots, one of which this request holds (none in tests).
    var permits: RequestPermits?

    public init(apiVersion: Int16, correlationId: Int32, clientId: String?, clientHost: String = "",
                listenerName: String = "", principal: String = RequestContext.anonymous, authorizer: Authorizer? = nil) {
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.clientHost = clientHost
        self.listenerName = listenerName
        self.principal = principal
        self.authorizer = authorizer
    }

    public static let anonymous = "User:ANONYMOUS"

    /// Runs a wait (a Fetch's long poll, a rebalance) without holding a `queued.max.requests`
    /// slot, as Kafka parks such requests in purgatory: clients waiting on each other, or on
    /// data, must not take every slot from the requests that would end their wait.
    func parked<T: Sendable>(_ wait: () async -> T) async -> T {
        guard let permits else { return await wait() }
        permits.release()
        let result = await wait()
        await permits.acquire()
        return result
    }

    /// The peer's address as ACL entries name hosts (without DescribeGroups' leading slash).
    private var aclHost: String { clientHost.hasPrefix("/") ? String(clientHost.dropFirst()) : clientHost }

    /// Whether the sender may do `operation` on the resource; always, without an authorizer.
    public func allows(_ operation: AclOperation, _ type: AclResourceType, _ name: String) -> Bool {
        authorizer?.authorize(principal: principal, host: aclHost, operation: operation, resourceType: type, name: name) ?? true
    }

    public func allowsCluster(_ operation: AclOperation) -> Bool {
        allows(operation, .cluster, AclResourceType.clusterName)
    }

    /// The error a config request on a resource gets when the sender may not do `operation`
    /// there (topic configs need the topic's ACL, broker configs the cluster's), or nil.
    func configDenial(_ operation: AclOperation, resourceType: Int8, name: String) -> ErrorCode? {
        if resourceType == ConfigDescriber.topicResource {
            return allows(operation, .topic, name) ? nil : .topicAuthorizationFailed
        }
        return allowsCluster(operation) ? nil : .clusterAuthorizationFailed
    }

    /// Whether the sender may do `operation` on some resource of the type.
    public func allowsAny(_ operation: AclOperation, _ type: AclResourceType) -> Bool {
        authorizer?.authorizeAny(principal: principal, host: aclHost, operation: operation, resourceType: type) ?? true
    }
}
