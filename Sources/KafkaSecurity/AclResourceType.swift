/// Kafka's resource types, with their wire codes (`ANY` and `UNKNOWN` only in filters).
public enum AclResourceType: Int8, Sendable, CaseIterable {
    case any = 1
    case topic = 2
    case group = 3
    case cluster = 4
    case transactionalId = 5
    case delegationToken = 6
    case user = 7

    /// The one name a cluster resource has.
    public static let clusterName = "kafka-cluster"

    public var name: String {
        switch self {
        case .any: return "ANY"
        case .topic: return "TOPIC"
        case .group: return "GROUP"
        case .cluster: return "CLUSTER"
        case .transactionalId: return "TRANSACTIONAL_ID"
        case .delegationToken: return "DELEGATION_TOKEN"
        case .user: return "USER"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = found
    }
}
