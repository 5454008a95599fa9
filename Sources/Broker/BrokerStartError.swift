/// Why a broker could not start, with the setting to blame, so that a daemon can name the file,
/// line and key of that setting in its one-line message.
public struct BrokerStartError: Error, CustomStringConvertible {
    public enum Setting: Sendable {
        /// The data directory: creating it, locking it, or reading what is in it.
        case dataDirectory
        /// The listen address: binding it.
        case listener
        /// The broker settings (`--set`, a config file's broker section).
        case settings
    }

    public let setting: Setting
    public let reason: String

    public init(_ setting: Setting, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { reason }
}
