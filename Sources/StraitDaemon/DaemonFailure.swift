/// Why the daemon stopped or would not start, as the one line a command prints before it exits
/// with status 1.
public struct DaemonFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
