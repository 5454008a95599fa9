import Foundation

/// Kafka's config providers, so secrets stay out of configuration files: `${file:PATH:KEY}`
/// (KIP-297, a key of a properties file) and `${env:NAME}` (KIP-887, an environment variable),
/// anywhere in a value. `config.providers` may declare other aliases for the same two classes.
///
/// Messages name the reference, never what it resolved to.
public struct ConfigProviders: Sendable {
    enum Kind: Sendable {
        case file
        case environment
    }

    static let fileClass = "org.apache.kafka.common.config.provider.FileConfigProvider"
    static let environmentClass = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"

    private var aliases: [String: Kind] = ["file": .file, "env": .environment]
    private let environment: [String: String]

    /// Reads the `config.providers` declarations among `settings`.
    public init(declarations settings: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SecuritySettingError) {
        self.environment = environment
        guard let declared = settings["config.providers"] else { return }
        for alias in declared.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !alias.isEmpty {
            let key = "config.providers.\(alias).class"
            switch settings[key]?.trimmingCharacters(in: .whitespaces) {
            case Self.fileClass?: aliases[alias] = .file
            case Self.environmentClass?: aliases[alias] = .environment
            case nil: throw SecuritySettingError(key, "missing: declare \(Self.fileClass) or \(Self.environmentClass)")
            case let other?: throw SecuritySettingError(key, "'\(other)' is not supported: use \(Self.fileClass) or \(Self.environmentClass)")
            }
        }
    }

    /// `value` with every `${alias:[path:]key}` replaced.
    public func resolve(_ value: String, key settingKey: String) throws(SecuritySettingError) -> String {
        guard value.contains("${") else { return value }
        var result = ""
        var rest = Substring(value)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw SecuritySettingError(settingKey, "a '${' reference is not closed with '}'")
            }
            let reference = rest[start.upperBound..<end]
            result += try lookup(reference, settingKey: settingKey)
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    private func lookup(_ reference: Substring, settingKey: String) throws(SecuritySettingError) -> String {
        let parts = reference.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let kind = aliases[parts[0]] else {
            throw SecuritySettingError(settingKey, "${\(reference)} names no config provider (file and env are known; declare others in config.providers)")
        }
        let name = parts[parts.count - 1]
        let path = parts.count > 2 ? parts[1..<(parts.count - 1)].joined(separator: ":") : ""
        switch kind {
        case .environment:
            guard let value = environment[name] else {
                throw SecuritySettingError(settingKey, "${\(reference)}: the environment variable \(name) is not set")
            }
            return value
        case .file:
            guard !path.isEmpty else { throw SecuritySettingError(settingKey, "${\(reference)}: expected ${\(parts[0]):PATH:KEY}") }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SecuritySettingError(settingKey, "${\(reference)}: cannot read \(path)")
            }
            guard let entry = JavaProperties(parsing: text).entries.last(where: { $0.key == name }) else {
                throw SecuritySettingError(settingKey, "${\(reference)}: \(path) has no key \(name)")
            }
            return entry.value
        }
    }
}
