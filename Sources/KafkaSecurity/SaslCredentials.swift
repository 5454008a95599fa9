import Foundation

/// What a client logs in with over SASL: the mechanism and the user's name and password, read
/// from Kafka's `sasl.mechanism` and `sasl.jaas.config`. Its description hides the password.
public struct SaslCredentials: Sendable, Equatable, CustomStringConvertible {
    public enum Mechanism: Sendable, Equatable {
        case plain
        case scram(ScramMechanism)

        public var name: String {
            switch self {
            case .plain: return "PLAIN"
            case .scram(let mechanism): return mechanism.rawValue
            }
        }
    }

    public var mechanism: Mechanism
    public var user: String
    public var password: String

    public init(mechanism: Mechanism, user: String, password: String) {
        self.mechanism = mechanism
        self.user = user
        self.password = password
    }

    public var description: String { "\(mechanism.name) as \(user)" }

    static let plainModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
    static let scramModule = "org.apache.kafka.common.security.scram.ScramLoginModule"

    /// Reads `sasl.mechanism` (Kafka's default is GSSAPI, which needs Kerberos and is refused) and
    /// the JAAS entry holding the user name and password.
    init(mechanismName: String?, jaasConfig: String?) throws(SecuritySettingError) {
        let name = (mechanismName ?? "GSSAPI").trimmingCharacters(in: .whitespaces).uppercased()
        let mechanism: Mechanism
        let module: String
        switch name {
        case "PLAIN":
            mechanism = .plain
            module = Self.plainModule
        case "OAUTHBEARER":
            throw SecuritySettingError("sasl.mechanism", "OAUTHBEARER is not supported yet; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
        default:
            guard let scram = ScramMechanism(name: name) else {
                throw SecuritySettingError("sasl.mechanism", "\(name) is not supported; set PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            mechanism = .scram(scram)
            module = Self.scramModule
        }
        guard let jaasConfig else {
            throw SecuritySettingError("sasl.jaas.config", "missing: SASL needs \(module) required username=\"...\" password=\"...\";")
        }
        let jaas: JaasConfig
        do {
            jaas = try JaasConfig(parsing: jaasConfig)
        } catch {
            throw SecuritySettingError("sasl.jaas.config", error.description.replacingOccurrences(of: "sasl.jaas.config: ", with: ""))
        }
        guard jaas.loginModule == module else {
            throw SecuritySettingError("sasl.jaas.config", "\(name) needs \(module), not \(jaas.loginModule)")
        }
        guard let user = jaas.options["username"], !user.isEmpty, let password = jaas.options["password"] else {
            throw SecuritySettingError("sasl.jaas.config", "needs username and password options")
        }
        self.init(mechanism: mechanism, user: user, password: password)
    }
}
