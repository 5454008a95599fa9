/// Strait's template policy: remote names from `replication.policy.template`, with `{source}`
/// and `{topic}` (for example `{topic}-from-{source}`). Reading a name back only accepts the
/// configured cluster aliases for `{source}`, so dashes or dots in topic names stay unambiguous.
public struct TemplateReplicationPolicy: ReplicationPolicy {
    public let template: String
    public let internalSeparator: String
    private let prefix: String
    private let middle: String
    private let suffix: String
    private let sourceFirst: Bool
    private let aliases: [String]

    /// Fails unless the template holds `{topic}` and `{source}` exactly once each, with
    /// something between them.
    public init(template: String, aliases: [String], internalSeparator: String = ".") throws(MirrorConfigError) {
        guard let topicRange = template.range(of: "{topic}"), let sourceRange = template.range(of: "{source}"),
              template.components(separatedBy: "{topic}").count == 2, template.components(separatedBy: "{source}").count == 2 else {
            throw MirrorConfigError(key: "replication.policy.template", "'\(template)' must hold {source} and {topic} once each")
        }
        sourceFirst = sourceRange.lowerBound < topicRange.lowerBound
        let (first, second) = sourceFirst ? (sourceRange, topicRange) : (topicRange, sourceRange)
        prefix = String(template[..<first.lowerBound])
        middle = String(template[first.upperBound..<second.lowerBound])
        suffix = String(template[second.upperBound...])
        guard !middle.isEmpty else {
            throw MirrorConfigError(key: "replication.policy.template", "'\(template)' needs a separator between {source} and {topic}")
        }
        self.template = template
        self.aliases = aliases.sorted { $0.count > $1.count }
        self.internalSeparator = internalSeparator
    }

    public func formatRemoteTopic(sourceAlias: String, topic: String) -> String {
        sourceFirst ? prefix + sourceAlias + middle + topic + suffix : prefix + topic + middle + sourceAlias + suffix
    }

    public func topicSource(_ topic: String) -> String? { parse(topic)?.source }

    public func upstreamTopic(_ topic: String) -> String? { parse(topic)?.topic }

    private func parse(_ name: String) -> (source: String, topic: String)? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
        let inner = String(name.dropFirst(prefix.count).dropLast(suffix.count))
        for alias in aliases {
            if sourceFirst, inner.hasPrefix(alias + middle), inner.count > alias.count + middle.count {
                return (alias, String(inner.dropFirst(alias.count + middle.count)))
            }
            if !sourceFirst, inner.hasSuffix(middle + alias), inner.count > alias.count + middle.count {
                return (alias, String(inner.dropLast(alias.count + middle.count)))
            }
        }
        return nil
    }
}
