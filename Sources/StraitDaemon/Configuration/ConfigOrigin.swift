/// Where a setting was written: the file, its line when known, and the key as the file spells
/// it. Run-time failures of a valid setting (a port in use) are reported against it, so that
/// every message says which line to change.
public struct ConfigOrigin: Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var key: String

    public init(file: String, line: Int?, key: String) {
        self.file = file
        self.line = line
        self.key = key
    }

    /// `FILE:LINE: KEY: reason`, one line.
    public func failure(_ reason: String) -> DaemonFailure {
        DaemonFailure(file + (line.map { ":\($0)" } ?? "") + ": \(key): \(reason)")
    }
}
