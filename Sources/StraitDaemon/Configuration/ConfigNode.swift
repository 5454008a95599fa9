import Yams

/// A node of a YAML configuration file with the dotted path that reached it
/// (`sites.east.listen`, `flows[0].topics`), so that every problem is reported as
/// `FILE:LINE: KEY: problem`.
struct ConfigNode {
    let node: Node
    let key: String
    let file: String
    /// The line of the key that names this value (where a user goes to change it), or of the
    /// value itself for list items and the document.
    let line: Int?

    init(node: Node, key: String, file: String, line: Int? = nil) {
        self.node = node
        self.key = key
        self.file = file
        self.line = line ?? node.mark?.line
    }

    var origin: ConfigOrigin { ConfigOrigin(file: file, line: line, key: key) }

    func failure(_ reason: String) -> DaemonFailure { origin.failure(reason) }

    /// The entries of a map, in file order; with `allowed`, any other key is an error.
    func entries(allowed: Set<String>? = nil) throws(DaemonFailure) -> [(name: String, value: ConfigNode)] {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else { throw failure("expected a map of settings, found \(kind)") }
        var result: [(name: String, value: ConfigNode)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw ConfigNode(node: keyNode, key: key, file: file).failure("a key must be plain text, found \(ConfigNode(node: keyNode, key: key, file: file).kind)")
            }
            let name = scalar.string
            let child = ConfigNode(node: value, key: key.isEmpty ? name : "\(key).\(name)", file: file, line: keyNode.mark?.line)
            if let allowed, !allowed.contains(name) {
                throw child.failure("unknown key; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            guard !result.contains(where: { $0.name == name }) else { throw child.failure("set twice") }
            result.append((name, child))
        }
        return result
    }

    /// The items of a list.
    func items() throws(DaemonFailure) -> [ConfigNode] {
        if isNull { return [] }
        guard case .sequence(let sequence) = node else { throw failure("expected a list, found \(kind)") }
        return sequence.enumerated().map { ConfigNode(node: $0.element, key: "\(key)[\($0.offset)]", file: file) }
    }

    /// A single value, as written (numbers and booleans as their text).
    func text() throws(DaemonFailure) -> String {
        guard case .scalar(let scalar) = node else { throw failure("expected a single value, found \(kind)") }
        return scalar.string
    }

    /// A list of names: a YAML list of values, or one comma-separated value (as in
    /// `mm2.properties`), joined with commas.
    func names() throws(DaemonFailure) -> String {
        if case .sequence = node {
            var names: [String] = []
            for item in try items() { names.append(try item.text()) }
            return names.joined(separator: ", ")
        }
        guard case .scalar(let scalar) = node else { throw failure("expected a value or a list, found \(kind)") }
        return scalar.string
    }

    /// `key:` with nothing after it: an empty map.
    private var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private var kind: String {
        switch node {
        case .scalar: return "a single value"
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
