import Foundation
import NIOSSL

/// How a client reaches a cluster: Kafka's `security.protocol` with its TLS settings and SASL
/// login, read from the client settings an operator already has (`ssl.*`, `sasl.mechanism`,
/// `sasl.jaas.config`). TLS material is loaded once, when the settings are read.
public struct ClientSecurity: Sendable, CustomStringConvertible {
    public var securityProtocol: SecurityProtocol
    public var tls: NIOSSLContext?
    public var sasl: SaslCredentials?

    /// Every client key this type reads.
    public static let keys: Set<String> = TLSSettings.keys.subtracting(["ssl.client.auth"])
        .union(["security.protocol", "sasl.mechanism", "sasl.jaas.config"])

    public init() {
        securityProtocol = .plaintext
    }

    public init(_ settings: [String: String]) throws(SecuritySettingError) {
        let name = settings["security.protocol"]?.trimmingCharacters(in: .whitespaces) ?? "PLAINTEXT"
        guard let securityProtocol = SecurityProtocol(name: name) else {
            throw SecuritySettingError("security.protocol", "expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got '\(name)'")
        }
        self.securityProtocol = securityProtocol
        if securityProtocol.usesTLS {
            do {
                tls = try NIOSSLContext(configuration: try TLSSettings(settings).clientConfiguration())
            } catch let error as SecuritySettingError {
                throw error
            } catch {
                throw SecuritySettingError("ssl.truststore.location", "cannot set up TLS: \(error)")
            }
        }
        if securityProtocol.usesSASL {
            sasl = try SaslCredentials(mechanismName: settings["sasl.mechanism"], jaasConfig: settings["sasl.jaas.config"])
        }
    }

    public var description: String {
        [securityProtocol.rawValue, sasl?.description].compactMap { $0 }.joined(separator: " ")
    }
}
