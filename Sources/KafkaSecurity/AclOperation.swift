/// Kafka's ACL operations, with their wire codes, and which ones imply others: READ, WRITE,
/// DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS (as Kafka's
/// authorizer has it).
public enum AclOperation: Int8, Sendable, CaseIterable {
    case any = 1
    case all = 2
    case read = 3
    case write = 4
    case create = 5
    case delete = 6
    case alter = 7
    case describe = 8
    case clusterAction = 9
    case describeConfigs = 10
    case alterConfigs = 11
    case idempotentWrite = 12
    case createTokens = 13
    case describeTokens = 14

    public var name: String {
        switch self {
        case .any: return "ANY"
        case .all: return "ALL"
        case .read: return "READ"
        case .write: return "WRITE"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .alter: return "ALTER"
        case .describe: return "DESCRIBE"
        case .clusterAction: return "CLUSTER_ACTION"
        case .describeConfigs: return "DESCRIBE_CONFIGS"
        case .alterConfigs: return "ALTER_CONFIGS"
        case .idempotentWrite: return "IDEMPOTENT_WRITE"
        case .createTokens: return "CREATE_TOKENS"
        case .describeTokens: return "DESCRIBE_TOKENS"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = found
    }

    /// Whether an ALLOW entry for `self` grants `requested`.
    public func allows(_ requested: AclOperation) -> Bool {
        if self == .all || self == requested { return true }
        switch requested {
        case .describe: return [.read, .write, .delete, .alter].contains(self)
        case .describeConfigs: return self == .alterConfigs
        default: return false
        }
    }
}
