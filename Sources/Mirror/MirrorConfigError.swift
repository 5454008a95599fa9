/// A configuration problem, naming the key (and the file line when known) in one line.
public struct MirrorConfigError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let reason: String
    public var line: Int?

    public init(key: String, _ reason: String, line: Int? = nil) {
        self.key = key
        self.reason = reason
        self.line = line
    }

    public var description: String {
        (line.map { "line \($0): " } ?? "") + "\(key): \(reason)"
    }
}
