/// The `.properties` format Java reads, which `server.properties` and `mm2.properties` are written in: `key=value`,
/// `key: value` or `key value`; `#` and `!` comments; a trailing backslash continues a line;
/// `\t`, `\n`, `\uXXXX` and escaped separators in keys. Keys keep their line for messages.
public struct JavaProperties: Sendable {
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: String
        public var line: Int
    }

    public private(set) var entries: [Entry] = []

    public init(parsing text: String) {
        var logical = ""
        var startLine = 0
        var continuing = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            line = line.drop(while: { $0 == " " || $0 == "\t" || $0 == "\u{0C}" })
            if !continuing {
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
                startLine = index + 1
                logical = ""
            }
            let trailingBackslashes = line.reversed().prefix(while: { $0 == "\\" }).count
            if trailingBackslashes % 2 == 1 {
                logical += line.dropLast()
                continuing = true
                continue
            }
            logical += line
            continuing = false
            entries.append(Self.entry(logical, line: startLine))
        }
        if continuing { entries.append(Self.entry(logical, line: startLine)) }
    }

    private static func entry(_ text: String, line: Int) -> Entry {
        var key = ""
        var rest = Substring(text)
        var escaped = false
        while let character = rest.first {
            if escaped {
                key += "\\\(character)"
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "=" || character == ":" || character == " " || character == "\t" {
                break
            } else {
                key.append(character)
            }
            rest = rest.dropFirst()
        }
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        if rest.first == "=" || rest.first == ":" { rest = rest.dropFirst() }
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        return Entry(key: unescape(key), value: unescape(String(rest)), line: line)
    }

    private static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var result = ""
        var characters = text.makeIterator()
        while let character = characters.next() {
            guard character == "\\", let next = characters.next() else {
                if character != "\\" { result.append(character) }
                continue
            }
            switch next {
            case "t": result.append("\t")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "f": result.append("\u{0C}")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let digit = characters.next() { hex.append(digit) } }
                if let scalar = UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) { result.unicodeScalars.append(scalar) }
            default: result.append(next)
            }
        }
        return result
    }
}
