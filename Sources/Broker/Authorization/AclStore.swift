#if canImport(Glibc)
import KafkaSecurity
import Glibc
#endif
import Foundation
import LogStore
import NIOConcurrencyHelpers

/// The broker's ACLs, kept in `<data>/meta/acls` and rewritten atomically on every change, so a
/// restart (or a crash) never loses or half-applies a CreateAcls or DeleteAcls.
///
/// One line per ACL: resource type, pattern type, operation and permission by name, then the
/// resource name, principal and host in base64 (group names and transactional ids may hold any
/// character).
public final class AclStore: Sendable {
    public let path: String
    private let bindings: NIOLockedValueBox<[AclBinding]>

    public init(dataDirectory: String) throws(KafkaError) {
        path = dataDirectory + "/meta/acls"
        var loaded: [AclBinding] = []
        if let text = FileSystem.readText(path) {
            for (index, line) in text.split(separator: "\n").enumerated() {
                guard let binding = Self.parse(line) else {
                    throw KafkaError(.kafkaStorageError, "\(path):\(index + 1): not an ACL line; fix or remove it")
                }
                loaded.append(binding)
            }
        }
        bindings = NIOLockedValueBox(loaded)
    }

    public var all: [AclBinding] { bindings.withLockedValue { $0 } }

    /// Adds the bindings not already present.
    public func add(_ new: [AclBinding]) throws(KafkaError) {
        try change { current in
            for binding in new where !current.contains(binding) { current.append(binding) }
        }
    }

    /// Removes and returns the bindings each filter matches (a binding matched by two filters is
    /// reported under the first).
    public func remove(matching filters: [AclBindingFilter]) throws(KafkaError) -> [[AclBinding]] {
        var removed: [[AclBinding]] = []
        try change { current in
            removed = filters.map { filter in
                let matched = current.filter(filter.matches)
                current.removeAll(where: filter.matches)
                return matched
            }
        }
        return removed
    }

    private func change(_ body: (inout [AclBinding]) -> Void) throws(KafkaError) {
        let result: Result<Void, KafkaError> = bindings.withLockedValue { current in
            var updated = current
            body(&updated)
            guard updated != current else { return .success(()) }
            do {
                try FileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
                try FileSystem.writeTextAtomically(updated.map(Self.render).joined(), to: path)
                chmod(path, 0o600)
            } catch {
                return .failure(KafkaError(.kafkaStorageError, "cannot write \(path): \(error)"))
            }
            current = updated
            return .success(())
        }
        try result.get()
    }

    private static func render(_ binding: AclBinding) -> String {
        [binding.resourceType.name, binding.patternType.name, binding.operation.name, binding.permission.name,
         Data(binding.resourceName.utf8).base64EncodedString(), Data(binding.principal.utf8).base64EncodedString(),
         Data(binding.host.utf8).base64EncodedString()].joined(separator: " ") + "\n"
    }

    private static func parse(_ line: Substring) -> AclBinding? {
        let fields = line.split(separator: " ").map(String.init)
        guard fields.count == 7, let type = AclResourceType(name: fields[0]),
              let pattern = [AclBinding.PatternType.literal, .prefixed].first(where: { $0.name == fields[1] }),
              let operation = AclOperation(name: fields[2]),
              let permission = [AclBinding.Permission.allow, .deny].first(where: { $0.name == fields[3] }),
              let name = decode(fields[4]), let principal = decode(fields[5]), let host = decode(fields[6]) else { return nil }
        return AclBinding(resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: host,
                          operation: operation, permission: permission)
    }

    private static func decode(_ text: String) -> String? {
        Data(base64Encoded: text).flatMap { String(data: $0, encoding: .utf8) }
    }
}
