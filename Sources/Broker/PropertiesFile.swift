import LogStore

/// Java-style `key=value` lines, the format of Strait's small metadata files
/// (`meta.properties`, topic descriptions, dynamic broker settings).
enum PropertiesFile {
    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingPrefix(while: { $0 == " " })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return values
    }

    static func render(_ values: [String: String]) -> String {
        values.keys.sorted().map { "\($0)=\(values[$0]!)\n" }.joined()
    }
}
