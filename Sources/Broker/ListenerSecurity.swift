import KafkaSecurity
import NIOSSL

/// What one listener demands of a connection, read once at start from the listener's settings:
/// its TLS context, and for SASL listeners the mechanisms it offers and PLAIN's users.
struct ListenerSecurity: Sendable {
    let listener: BrokerListener
    let tls: NIOSSLContext?
    /// Enabled SASL mechanisms in the order given (empty on a listener without SASL).
    let mechanisms: [String]
    /// PLAIN's users and passwords, from the listener's JAAS entry (`user_NAME="password"`).
    let plainUsers: [String: String]

    static let plainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
    static let supportedMechanisms = ["PLAIN"] + ScramMechanism.allCases.map(\.rawValue)

    init(listener: BrokerListener, config: BrokerConfig) throws(SecuritySettingError) {
        self.listener = listener
        let settings = config.securitySettings(for: listener)
        if listener.securityProtocol.usesTLS {
            do {
                tls = try NIOSSLContext(configuration: try TLSSettings(settings).serverConfiguration())
            } catch let error as SecuritySettingError {
                throw error
            } catch {
                throw SecuritySettingError("ssl.keystore.location", "cannot set up TLS: \(error)")
            }
        } else {
            tls = nil
        }
        guard listener.securityProtocol.usesSASL else {
            mechanisms = []
            plainUsers = [:]
            return
        }
        var users: [String: String] = [:]
        if let text = settings["plain.sasl.jaas.config"] ?? settings["sasl.jaas.config"] {
            let jaas: JaasConfig
            let key = settings["plain.sasl.jaas.config"] != nil ? "plain.sasl.jaas.config" : "sasl.jaas.config"
            do {
                jaas = try JaasConfig(parsing: text)
            } catch {
                throw SecuritySettingError(key, error.description.replacingOccurrences(of: "sasl.jaas.config: ", with: ""))
            }
            guard jaas.loginModule == Self.plainLoginModule || key != "plain.sasl.jaas.config" else {
                throw SecuritySettingError(key, "must use \(Self.plainLoginModule)")
            }
            if jaas.loginModule == Self.plainLoginModule {
                for (key, value) in jaas.options where key.hasPrefix("user_") { users[String(key.dropFirst(5))] = value }
            }
        }
        plainUsers = users
        if let text = settings["sasl.enabled.mechanisms"] {
            let names = text.split(separator: ",").map { String($0).trimmingWhitespace().uppercased() }.filter { !$0.isEmpty }
            for name in names where !Self.supportedMechanisms.contains(name) {
                let later = name == "OAUTHBEARER" ? "OAUTHBEARER is not supported yet" : "\(name) is not supported"
                throw SecuritySettingError("sasl.enabled.mechanisms", "\(later); use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            guard !names.isEmpty else { throw SecuritySettingError("sasl.enabled.mechanisms", "empty") }
            mechanisms = names
        } else {
            // Kafka's default is GSSAPI, which needs Kerberos; the SCRAM mechanisms need nothing
            // but users, and PLAIN is offered when the listener declares its users.
            mechanisms = (users.isEmpty ? [] : ["PLAIN"]) + ScramMechanism.allCases.map(\.rawValue)
        }
        if mechanisms.contains("PLAIN"), users.isEmpty {
            throw SecuritySettingError("sasl.enabled.mechanisms", "PLAIN needs its users in listener.name.\(listener.name.lowercased()).plain.sasl.jaas.config (\(Self.plainLoginModule) required user_NAME=\"PASSWORD\";)")
        }
    }
}
