import Mirror

/// Reading an `mm2.properties` file for any command, with a one-line reason when it cannot be
/// used: `FILE:LINE: KEY: problem`.
public enum MirrorConfigurationFile {
    public static func read(_ path: String) throws(DaemonFailure) -> MirrorConfiguration {
        let text = try ConfigFileText.read(path)
        do {
            return try MirrorConfiguration(parsing: text)
        } catch {
            throw ConfigOrigin(file: path, line: error.line, key: error.key).failure(error.reason)
        }
    }
}
