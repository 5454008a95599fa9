#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KafkaSecurity
import LogStore
import NIOConcurrencyHelpers

/// The broker's SCRAM users (KIP-554): salted keys only, never passwords, in
/// `<data>/scram-credentials` (beside `meta.properties`, so adding the first user before the first start
/// does not look like an unclean shutdown), readable by the broker's user alone.
///
/// One line per user and mechanism: the user name in base64 (any character may appear in a name),
/// the mechanism, the iterations, then salt, stored key and server key in base64.
public final class ScramCredentialStore: Sendable {
    public let path: String
    private let credentials: NIOLockedValueBox<[String: [ScramMechanism: ScramCredential]]>

    public init(dataDirectory: String) throws(KafkaError) {
        path = dataDirectory + "/scram-credentials"
        var loaded: [String: [ScramMechanism: ScramCredential]] = [:]
        if let text = FileSystem.readText(path) {
            for (index, line) in text.split(separator: "\n").enumerated() {
                guard let (user, credential) = Self.parse(line) else {
                    throw KafkaError(.kafkaStorageError, "\(path):\(index + 1): not a SCRAM credential line; remove the line or the file and add the user again")
                }
                loaded[user, default: [:]][credential.mechanism] = credential
            }
        }
        credentials = NIOLockedValueBox(loaded)
    }

    public func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        credentials.withLockedValue { $0[user]?[mechanism] }
    }

    /// Every user with the mechanisms and iterations of their credentials, by name.
    public func users() -> [(user: String, credentials: [ScramCredential])] {
        credentials.withLockedValue { all in
            all.keys.sorted().map { user in (user, all[user]!.values.sorted { $0.mechanism.wireType < $1.mechanism.wireType }) }
        }
    }

    public func upsert(user: String, _ credential: ScramCredential) throws(KafkaError) {
        try change { $0[user, default: [:]][credential.mechanism] = credential }
    }

    /// Removes one mechanism's credential; false when the user had none for it.
    @discardableResult
    public func remove(user: String, mechanism: ScramMechanism) throws(KafkaError) -> Bool {
        var removed = false
        try change { all in
            removed = all[user]?.removeValue(forKey: mechanism) != nil
            if all[user]?.isEmpty == true { all[user] = nil }
        }
        return removed
    }

    private func change(_ body: (inout [String: [ScramMechanism: ScramCredential]]) -> Void) throws(KafkaError) {
        let result: Result<Void, KafkaError> = credentials.withLockedValue { all in
            var updated = all
            body(&updated)
            do {
                try FileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
                try FileSystem.writeTextAtomically(Self.render(updated), to: path)
                chmod(path, 0o600)
            } catch {
                return .failure(KafkaError(.kafkaStorageError, "cannot write \(path): \(error)"))
            }
            all = updated
            return .success(())
        }
        try result.get()
    }

    private static func render(_ all: [String: [ScramMechanism: ScramCredential]]) -> String {
        var lines: [String] = []
        for user in all.keys.sorted() {
            for credential in all[user]!.values.sorted(by: { $0.mechanism.wireType < $1.mechanism.wireType }) {
                lines.append([Data(user.utf8).base64EncodedString(), credential.mechanism.rawValue, String(credential.iterations),
                              Data(credential.salt).base64EncodedString(), Data(credential.storedKey).base64EncodedString(),
                              Data(credential.serverKey).base64EncodedString()].joined(separator: " "))
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func parse(_ line: Substring) -> (String, ScramCredential)? {
        let fields = line.split(separator: " ")
        guard fields.count == 6, let userData = Data(base64Encoded: String(fields[0])), let user = String(data: userData, encoding: .utf8),
              let mechanism = ScramMechanism(rawValue: String(fields[1])), let iterations = Int(fields[2]),
              let salt = Data(base64Encoded: String(fields[3])), let storedKey = Data(base64Encoded: String(fields[4])),
              let serverKey = Data(base64Encoded: String(fields[5])) else { return nil }
        return (user, ScramCredential(mechanism: mechanism, salt: Array(salt), storedKey: Array(storedKey), serverKey: Array(serverKey), iterations: iterations))
    }
}

extension ScramCredentialStore {
    /// Opens the store of a broker that is not running (to bootstrap the first users): the data
    /// directory's lock is held while `body` runs, so a running broker is never edited behind
    /// its back.
    public static func editingOffline<T>(dataDirectory: String, _ body: (ScramCredentialStore) throws -> T) throws -> T {
        do {
            try FileSystem.makeDirectory(dataDirectory)
        } catch {
            throw KafkaError(.kafkaStorageError, "cannot create \(dataDirectory): \(error)")
        }
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock(directory: dataDirectory)
        } catch {
            throw KafkaError(.kafkaStorageError, "a broker is running on \(dataDirectory): change its users with AlterUserScramCredentials (kafka-configs --alter --entity-type users) instead")
        }
        defer { lock.release() }
        return try body(try ScramCredentialStore(dataDirectory: dataDirectory))
    }

    /// A new credential for `password` with a fresh random salt.
    public static func credential(password: String, mechanism: ScramMechanism, iterations: Int) throws -> ScramCredential {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return try mechanism.credential(password: password, salt: salt, iterations: iterations)
    }
}

extension KafkaError: CustomStringConvertible {
    public var description: String { message ?? code.kafkaName }
}
