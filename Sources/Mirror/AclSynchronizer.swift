import KafkaClient
import KafkaSecurity
import Logging
import NIOConcurrencyHelpers

/// MM2's topic ACL sync (`sync.topic.acls.enabled`): the source's literal topic ACLs for the
/// replicated topics, renamed to the remote topics, are created on the target. ALLOW ALL becomes
/// ALLOW READ and ALLOW WRITE is never copied, so only the mirror writes the copies.
///
/// A source or target without an authorizer (SECURITY_DISABLED) is not an error: there is
/// nothing to copy, and this is logged once.
final class AclSynchronizer: Sendable {
    let source: KafkaCluster
    let target: KafkaCluster
    private let logger: Logger
    private let flowName: String
    private let disabledLogged = NIOLockedValueBox(false)

    init(flowName: String, source: KafkaCluster, target: KafkaCluster, logger: Logger) {
        self.flowName = flowName
        self.source = source
        self.target = target
        self.logger = logger
    }

    /// What the target should hold for `sourceAcls`, given source topic → remote topic names.
    static func remoteBindings(_ sourceAcls: [AclBinding], remoteNames: [String: String]) -> [AclBinding] {
        var result: [AclBinding] = []
        for binding in sourceAcls where binding.resourceType == .topic && binding.patternType == .literal {
            guard let remote = remoteNames[binding.resourceName] else { continue }
            if binding.permission == .allow && binding.operation == .write { continue }
            var copy = binding
            copy.resourceName = remote
            if copy.permission == .allow && copy.operation == .all { copy.operation = .read }
            if !result.contains(copy) { result.append(copy) }
        }
        return result
    }

    /// One pass over the flow's current topics.
    func sync(_ mappings: [String: TopicMapping]) async {
        guard !mappings.isEmpty else { return }
        do throws(KafkaClientError) {
            let sourceAcls = try await KafkaAdmin(cluster: source).describeAcls(AclBindingFilter(resourceType: .topic, patternType: .literal))
            let wanted = Self.remoteBindings(sourceAcls, remoteNames: mappings.mapValues(\.targetTopic))
            guard !wanted.isEmpty else { return }
            let admin = KafkaAdmin(cluster: target)
            let existing = try await admin.describeAcls(AclBindingFilter(resourceType: .topic, patternType: .literal))
            let missing = wanted.filter { !existing.contains($0) }
            try await admin.createAcls(missing)
            if !missing.isEmpty { logger.info("\(flowName): synced \(missing.count) topic ACLs to the target") }
        } catch .broker(.securityDisabled, _) {
            if !disabledLogged.withLockedValue({ logged in defer { logged = true }; return logged }) {
                logger.notice("\(flowName): ACL sync skipped: a cluster has no authorizer")
            }
        } catch {
            logger.warning("\(flowName): ACL sync failed: \(error)")
        }
    }
}
