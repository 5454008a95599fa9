import Crypto
import CryptoExtras

/// The two SCRAM mechanisms Kafka implements (KIP-84), and RFC 5802's formulas for each.
public enum ScramMechanism: String, Sendable, CaseIterable, Codable {
    case sha256 = "SCRAM-SHA-256"
    case sha512 = "SCRAM-SHA-512"

    /// Kafka's bounds on iterations: fewer than 4096 is refused as weak, more than 16384 as a
    /// way to make the broker burn CPU on every login (KIP-554).
    public static let minimumIterations = 4096
    public static let maximumIterations = 16384

    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }

    /// The code AlterUserScramCredentials and DescribeUserScramCredentials carry (KIP-554).
    public var wireType: Int8 {
        switch self {
        case .sha256: return 1
        case .sha512: return 2
        }
    }

    public init?(wireType: Int8) {
        switch wireType {
        case 1: self = .sha256
        case 2: self = .sha512
        default: return nil
        }
    }

    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: return Array(SHA256.hash(data: data))
        case .sha512: return Array(SHA512.hash(data: data))
        }
    }

    public func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    /// RFC 5802's Hi(): PBKDF2 with this mechanism's HMAC, one hash length of output.
    public func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let function: KDF.Insecure.PBKDF2.HashFunction = self == .sha256 ? .sha256 : .sha512
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: function,
                                                    outputByteCount: self == .sha256 ? 32 : 64, unsafeUncheckedRounds: iterations)
        return key.withUnsafeBytes { Array($0) }
    }

    public func clientKey(saltedPassword: [UInt8]) -> [UInt8] { hmac(key: saltedPassword, Array("Client Key".utf8)) }
    public func serverKey(saltedPassword: [UInt8]) -> [UInt8] { hmac(key: saltedPassword, Array("Server Key".utf8)) }

    /// What a broker keeps of a password: never the password, only keys derived from it.
    public func credential(password: String, salt: [UInt8], iterations: Int) throws -> ScramCredential {
        let salted = try saltedPassword(password, salt: salt, iterations: iterations)
        return credential(saltedPassword: salted, salt: salt, iterations: iterations)
    }

    /// The form AlterUserScramCredentials delivers: the client salted the password itself.
    public func credential(saltedPassword: [UInt8], salt: [UInt8], iterations: Int) -> ScramCredential {
        ScramCredential(mechanism: self, salt: salt, storedKey: hash(clientKey(saltedPassword: saltedPassword)),
                        serverKey: serverKey(saltedPassword: saltedPassword), iterations: iterations)
    }

    static func xor(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        zip(left, right).map { $0 ^ $1 }
    }
}
