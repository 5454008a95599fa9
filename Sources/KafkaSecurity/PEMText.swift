/// PEM given inline in a properties file. Written over several lines with Java's trailing
/// backslashes, it arrives as one line (the properties format joins them and drops the line
/// breaks); Kafka reads that, OpenSSL does not. The base64 between the markers is laid out again
/// in 64-character lines.
enum PEMText {
    static func restoringLines(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN ") {
            guard let beginEnd = rest[begin.upperBound...].range(of: "-----"),
                  let end = rest[beginEnd.upperBound...].range(of: "-----END "),
                  let endEnd = rest[end.upperBound...].range(of: "-----") else { break }
            let body = rest[beginEnd.upperBound..<end.lowerBound].filter { !$0.isWhitespace && $0 != "\\" }
            // Legacy encrypted keys carry `Name: value` headers whose lines must stay as written.
            guard !body.contains(":") else { return text }
            result += rest[begin.lowerBound..<beginEnd.upperBound] + "\n"
            var line = Substring(body)
            while !line.isEmpty {
                result += line.prefix(64) + "\n"
                line = line.dropFirst(64)
            }
            result += rest[end.lowerBound..<endEnd.upperBound] + "\n"
            rest = rest[endEnd.upperBound...]
        }
        return result.isEmpty ? text : result
    }
}
