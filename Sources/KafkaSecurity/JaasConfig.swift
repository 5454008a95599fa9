/// One login module in Kafka's `sasl.jaas.config` syntax:
/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`
///
/// Kafka takes exactly one module per `sasl.jaas.config` value; options are `name=value`, the
/// value quoted (with backslash escapes) or a bare word.
public struct JaasConfig: Sendable, Equatable {
    public var loginModule: String
    public var controlFlag: String
    public var options: [String: String]

    static let controlFlags: Set<String> = ["required", "requisite", "sufficient", "optional"]

    public init(loginModule: String, controlFlag: String = "required", options: [String: String]) {
        self.loginModule = loginModule
        self.controlFlag = controlFlag
        self.options = options
    }

    /// Parses the value; the error names what is wrong but never repeats an option's value,
    /// which may be a password.
    public init(parsing text: String) throws(SaslFailure) {
        var scanner = Scanner(text)
        guard let module = scanner.word(), !module.isEmpty else {
            throw SaslFailure("sasl.jaas.config: expected a login module class name")
        }
        guard let flag = scanner.word(), Self.controlFlags.contains(flag.lowercased()) else {
            throw SaslFailure("sasl.jaas.config: expected a control flag (required, requisite, sufficient or optional) after \(module)")
        }
        var options: [String: String] = [:]
        while true {
            scanner.skipSpaces()
            if scanner.consume(";") { break }
            guard let name = scanner.word(stoppingAt: "="), !name.isEmpty, scanner.consume("=") else {
                throw SaslFailure("sasl.jaas.config: expected name=value or the closing ';' in the options of \(module)")
            }
            guard let value = scanner.value() else {
                throw SaslFailure("sasl.jaas.config: option \(name) has an unterminated quoted value")
            }
            options[name] = value
        }
        scanner.skipSpaces()
        guard scanner.atEnd else {
            throw SaslFailure("sasl.jaas.config: one login module is allowed, and it must end with ';'")
        }
        self.init(loginModule: module, controlFlag: flag.lowercased(), options: options)
    }

    private struct Scanner {
        var rest: Substring

        init(_ text: String) { rest = Substring(text) }

        var atEnd: Bool { rest.isEmpty }

        mutating func skipSpaces() {
            rest = rest.drop(while: { $0.isWhitespace })
        }

        mutating func consume(_ character: Character) -> Bool {
            guard rest.first == character else { return false }
            rest = rest.dropFirst()
            return true
        }

        mutating func word(stoppingAt stop: Character? = nil) -> String? {
            skipSpaces()
            let word = rest.prefix(while: { !$0.isWhitespace && $0 != ";" && $0 != stop })
            rest = rest.dropFirst(word.count)
            return word.isEmpty ? nil : String(word)
        }

        mutating func value() -> String? {
            skipSpaces()
            guard consume("\"") else { return word() ?? "" }
            var value = ""
            while let character = rest.first {
                rest = rest.dropFirst()
                if character == "\"" { return value }
                if character == "\\", let next = rest.first {
                    value.append(next)
                    rest = rest.dropFirst()
                } else {
                    value.append(character)
                }
            }
            return nil
        }
    }
}
