import Foundation
import KafkaClient

/// Reads a configuration file whole, failing with one line that says why in words.
enum ConfigFileText {
    static func read(_ path: String) throws(DaemonFailure) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DaemonFailure("cannot read \(path): \(SocketErrorText.words(errno: ENOENT))")
        }
        guard !isDirectory.boolValue else { throw DaemonFailure("cannot read \(path): \(SocketErrorText.words(errno: EISDIR))") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DaemonFailure("cannot read \(path): \(SocketErrorText.words(errno: EACCES))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw DaemonFailure("cannot read \(path): not UTF-8 text") }
        return text
    }
}
