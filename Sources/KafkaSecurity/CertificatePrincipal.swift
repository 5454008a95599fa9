import NIOSSL
import X509

/// The principal Kafka gives a client that authenticated with a TLS certificate:
/// `User:` and the subject's distinguished name in RFC 2253 order (most specific first),
/// as Java's `X500Principal.getName()` writes it.
public enum CertificatePrincipal {
    public static func name(of certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return "User:" + parsed.subject.description
    }
}
