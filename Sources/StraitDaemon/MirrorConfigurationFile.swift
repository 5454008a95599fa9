import Foundation
import Mirror

/// Reading an `mm2.properties` file for any command, with a one-line reason when it cannot be
/// used.
public enum MirrorConfigurationFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(_ path: String) throws(Failure) -> MirrorConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read \(path): \(error.localizedDescription)")
        }
        do {
            return try MirrorConfiguration(parsing: text)
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
    }
}
