import Foundation
import NIOSSL

/// Kafka's `ssl.*` settings turned into swift-nio-ssl's configuration, for a broker listener or
/// for a client. Keys and stores are read here, once, so a bad file is reported at start with the
/// key that names it.
///
/// Stores: PEM (KIP-651: one file holding the private key then the certificate chain, or the
/// inline `ssl.keystore.key` and `ssl.keystore.certificate.chain`) and PKCS12. JKS is Java's own
/// format; it is refused with the command that converts it.
public struct TLSSettings: Sendable {
    /// Settings read, with the prefix removed (`ssl.keystore.location`, not
    /// `listener.name.ssl.ssl.keystore.location`).
    private let values: [String: String]

    /// Every `ssl.*` key this type reads; others are left to the caller to warn about.
    public static let keys: Set<String> = [
        "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
        "ssl.keystore.key", "ssl.keystore.certificate.chain",
        "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
        "ssl.client.auth", "ssl.endpoint.identification.algorithm", "ssl.enabled.protocols", "ssl.protocol",
    ]

    public init(_ values: [String: String]) {
        self.values = values
    }

    private func value(_ key: String) -> String? {
        values[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `ssl.client.auth`: whether a broker asks clients for certificates.
    public enum ClientAuthentication: String, Sendable {
        case required, requested, none
    }

    public func clientAuthentication() throws(SecuritySettingError) -> ClientAuthentication {
        guard let text = value("ssl.client.auth") else { return .none }
        guard let mode = ClientAuthentication(rawValue: text.lowercased()) else {
            throw SecuritySettingError("ssl.client.auth", "expected required, requested or none, got '\(text)'")
        }
        return mode
    }

    /// A listener's configuration: its own certificate, and the CAs client certificates must
    /// chain to when `ssl.client.auth` asks for them.
    public func serverConfiguration() throws(SecuritySettingError) -> TLSConfiguration {
        guard let identity = try keystore() else {
            throw SecuritySettingError("ssl.keystore.location", "a TLS listener needs a key and certificate (ssl.keystore.location, or ssl.keystore.key with ssl.keystore.certificate.chain)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: identity.chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(identity.key))
        try applyProtocols(to: &configuration)
        switch try clientAuthentication() {
        case .none:
            configuration.certificateVerification = .none
        case .requested:
            configuration.certificateVerification = .optionalVerification
        case .required:
            configuration.certificateVerification = .noHostnameVerification
        }
        if try clientAuthentication() != .none {
            guard let roots = try truststore() else {
                throw SecuritySettingError("ssl.truststore.location", "ssl.client.auth needs a truststore holding the CAs of client certificates")
            }
            configuration.trustRoots = .certificates(roots)
        }
        return configuration
    }

    /// A client's configuration: the CAs it trusts (the system's when none is set), its own
    /// certificate when the broker asks for one, and hostname verification unless
    /// `ssl.endpoint.identification.algorithm` is set empty, as in Kafka.
    public func clientConfiguration() throws(SecuritySettingError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        try applyProtocols(to: &configuration)
        if let roots = try truststore() { configuration.trustRoots = .certificates(roots) }
        if let identity = try keystore() {
            configuration.certificateChain = identity.chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(identity.key)
        }
        let algorithm = values["ssl.endpoint.identification.algorithm"] ?? "https"
        switch algorithm.lowercased() {
        case "https": configuration.certificateVerification = .fullVerification
        case "": configuration.certificateVerification = .noHostnameVerification
        default:
            throw SecuritySettingError("ssl.endpoint.identification.algorithm", "expected https or an empty value, got '\(algorithm)'")
        }
        return configuration
    }

    /// Kafka enables TLSv1.2 and TLSv1.3 unless told otherwise; older versions are never offered.
    private func applyProtocols(to configuration: inout TLSConfiguration) throws(SecuritySettingError) {
        configuration.minimumTLSVersion = .tlsv12
        let key = values["ssl.enabled.protocols"] != nil ? "ssl.enabled.protocols" : "ssl.protocol"
        guard let text = value(key) else { return }
        var versions: [TLSVersion] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            switch name {
            case "TLSv1.2": versions.append(.tlsv12)
            case "TLSv1.3", "TLS": versions.append(.tlsv13)
            default: throw SecuritySettingError(key, "supported protocols are TLSv1.2 and TLSv1.3, got '\(name)'")
            }
        }
        if key == "ssl.protocol" {
            configuration.minimumTLSVersion = versions.contains(.tlsv12) ? .tlsv12 : .tlsv13
        } else {
            configuration.minimumTLSVersion = versions.contains(.tlsv12) ? .tlsv12 : .tlsv13
            configuration.maximumTLSVersion = versions.contains(.tlsv13) ? .tlsv13 : .tlsv12
        }
    }

    struct Identity {
        var key: NIOSSLPrivateKey
        var chain: [NIOSSLCertificate]
    }

    private func keystore() throws(SecuritySettingError) -> Identity? {
        if let inlineKey = value("ssl.keystore.key") {
            guard let inlineChain = value("ssl.keystore.certificate.chain") else {
                throw SecuritySettingError("ssl.keystore.certificate.chain", "ssl.keystore.key needs the certificate chain beside it")
            }
            return Identity(key: try privateKey(Array(PEMText.restoringLines(inlineKey).utf8), key: "ssl.keystore.key"),
                            chain: try certificates(Array(PEMText.restoringLines(inlineChain).utf8), key: "ssl.keystore.certificate.chain"))
        }
        guard let location = value("ssl.keystore.location") else { return nil }
        let bytes = try Self.read(location, key: "ssl.keystore.location")
        switch try storeType(of: bytes, key: "ssl.keystore") {
        case .pem:
            return Identity(key: try privateKey(bytes, key: "ssl.keystore.location"), chain: try certificates(bytes, key: "ssl.keystore.location"))
        case .pkcs12:
            do {
                let bundle = try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: Array((value("ssl.keystore.password") ?? "").utf8))
                return Identity(key: bundle.privateKey, chain: bundle.certificateChain)
            } catch {
                throw SecuritySettingError("ssl.keystore.location", "cannot open the PKCS12 store \(location) (wrong ssl.keystore.password, or not a PKCS12 file)")
            }
        }
    }

    private func truststore() throws(SecuritySettingError) -> [NIOSSLCertificate]? {
        if let inline = value("ssl.truststore.certificates") {
            return try certificates(Array(PEMText.restoringLines(inline).utf8), key: "ssl.truststore.certificates")
        }
        guard let location = value("ssl.truststore.location") else { return nil }
        let bytes = try Self.read(location, key: "ssl.truststore.location")
        switch try storeType(of: bytes, key: "ssl.truststore") {
        case .pem:
            return try certificates(bytes, key: "ssl.truststore.location")
        case .pkcs12:
            do {
                let bundle = try NIOSSLPKCS12Bundle(buffer: bytes, passphrase: Array((value("ssl.truststore.password") ?? "").utf8))
                return bundle.certificateChain
            } catch {
                throw SecuritySettingError("ssl.truststore.location", "cannot open the PKCS12 store \(location) (wrong ssl.truststore.password, or not a PKCS12 file)")
            }
        }
    }

    private enum StoreType { case pem, pkcs12 }

    /// The declared store type, checked against the file: Kafka's default type is JKS, which
    /// Strait cannot read, so an unset type is taken from the content.
    private func storeType(of bytes: [UInt8], key prefix: String) throws(SecuritySettingError) -> StoreType {
        let looksLikePEM = bytes.starts(with: Array("-----BEGIN".utf8)) || String(decoding: bytes.prefix(4096), as: UTF8.self).contains("-----BEGIN")
        let isJKS = bytes.starts(with: [0xFE, 0xED, 0xFE, 0xED])
        let declared = value("\(prefix).type")?.uppercased()
        if declared == "JKS" || (declared == nil && isJKS) {
            throw SecuritySettingError("\(prefix).type", "JKS stores are Java's own format; convert to PKCS12 with `keytool -importkeystore -srckeystore STORE.jks -destkeystore STORE.p12 -deststoretype PKCS12` and set \(prefix).type=PKCS12, or use PEM")
        }
        switch declared {
        case "PEM": return .pem
        case "PKCS12": return .pkcs12
        case nil: return looksLikePEM ? .pem : .pkcs12
        case let other?: throw SecuritySettingError("\(prefix).type", "expected PEM or PKCS12, got '\(other)'")
        }
    }

    private static func read(_ path: String, key: String) throws(SecuritySettingError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecuritySettingError(key, "cannot read \(path)")
        }
        return Array(data)
    }

    private func certificates(_ pem: [UInt8], key: String) throws(SecuritySettingError) -> [NIOSSLCertificate] {
        let found: [NIOSSLCertificate]
        do {
            found = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw SecuritySettingError(key, "holds no readable PEM certificate")
        }
        guard !found.isEmpty else { throw SecuritySettingError(key, "holds no PEM certificate") }
        return found
    }

    /// Never lets BoringSSL prompt on the terminal for an encrypted key: the passphrase is
    /// `ssl.key.password` or nothing.
    private func privateKey(_ pem: [UInt8], key: String) throws(SecuritySettingError) -> NIOSSLPrivateKey {
        let passphrase = Array((value("ssl.key.password") ?? "").utf8)
        do {
            return try NIOSSLPrivateKey(bytes: pem, format: .pem) { (provide: ([UInt8]) -> Void) in provide(passphrase) }
        } catch {
            let encrypted = String(decoding: pem, as: UTF8.self).contains("ENCRYPTED")
            throw SecuritySettingError(key, encrypted ? "the private key is encrypted and ssl.key.password does not open it"
                                                      : "holds no readable PEM private key")
        }
    }
}
