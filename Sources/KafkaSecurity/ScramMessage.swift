import Foundation

/// The comma-separated `k=v` attributes of SCRAM's messages (RFC 5802 section 5), with the
/// username escaping (`=2C` and `=3D`) the RFC prescribes.
enum ScramMessage {
    static func attributes(_ text: Substring) -> [Character: Substring]? {
        var result: [Character: Substring] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard part.count >= 2, let name = part.first, part.dropFirst().first == "=" else { return nil }
            result[name] = part.dropFirst(2)
        }
        return result
    }

    static func escape(_ name: String) -> String {
        name.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
    }

    static func unescape(_ name: Substring) -> String? {
        var result = ""
        var rest = name[...]
        while let character = rest.first {
            if character == "=" {
                switch rest.prefix(3) {
                case "=2C": result.append(",")
                case "=3D": result.append("=")
                default: return nil
                }
                rest = rest.dropFirst(3)
            } else {
                result.append(character)
                rest = rest.dropFirst()
            }
        }
        return result
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func bytes(base64 text: Substring) -> [UInt8]? {
        Data(base64Encoded: String(text)).map { Array($0) }
    }

    /// A nonce of printable characters without commas, as the RFC requires.
    static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
