/// MirrorMaker 2's include/exclude lists of regular expressions (`topics`/`topics.exclude`,
/// `groups`/`groups.exclude`): a name is selected when it wholly matches an include pattern
/// and no exclude pattern.
public struct NameFilter: Sendable {
    public let include: [String]
    public let exclude: [String]
    // Regex is an immutable value that is not marked Sendable; matching never mutates it.
    nonisolated(unsafe) private let includeRegex: Regex<AnyRegexOutput>
    nonisolated(unsafe) private let excludeRegex: Regex<AnyRegexOutput>?

    public static let defaultTopicExclusions = [#".*[\-\.]internal"#, #".*\.replica"#, "__.*"]
    public static let defaultGroupExclusions = ["console-consumer-.*", "connect-.*", "__.*"]

    public init(include: [String], exclude: [String], includeKey: String, excludeKey: String) throws(MirrorConfigError) {
        self.include = include
        self.exclude = exclude
        includeRegex = try Self.compile(include, key: includeKey) ?? (try! Regex("(?!)"))
        excludeRegex = try Self.compile(exclude, key: excludeKey)
    }

    public func matches(_ name: String) -> Bool {
        (try? includeRegex.wholeMatch(in: name)) != nil && excludeRegex.map { (try? $0.wholeMatch(in: name)) == nil } ?? true
    }

    /// Comma-separated patterns, as MM2 lists them.
    public static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    private static func compile(_ patterns: [String], key: String) throws(MirrorConfigError) -> Regex<AnyRegexOutput>? {
        guard !patterns.isEmpty else { return nil }
        for pattern in patterns {
            do {
                _ = try Regex(pattern)
            } catch {
                throw MirrorConfigError(key: key, "'\(pattern)' is not a regular expression")
            }
        }
        return try! Regex(patterns.map { "(?:\($0))" }.joined(separator: "|"))
    }
}
