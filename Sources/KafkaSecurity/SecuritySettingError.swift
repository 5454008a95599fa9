/// A security setting that cannot be used, named by its Kafka key. The message never quotes a
/// password or a key.
public struct SecuritySettingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let problem: String

    public init(_ key: String, _ problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "\(key): \(problem)" }
}
