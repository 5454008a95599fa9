import ArgumentParser
import Broker
import Foundation
import KafkaSecurity

/// `strait user`: the SCRAM users of a stopped broker's data directory, to create the first
/// administrator before any client can log in (as `kafka-storage format --add-scram` does).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, remove or list the SCRAM users of a broker that is not running.",
        subcommands: [Add.self, Remove.self, List.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user, or change its password. The password is read from --password-file, or else from the first line of standard input."
        )

        @Argument(help: "The user name.")
        var name: String

        @Option(name: .customLong("data-dir"), help: "The broker's data directory.")
        var dataDir: String

        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512 (repeatable; default both).")
        var mechanism: [String] = []

        @Option(help: "PBKDF2 iterations, 4096 to 16384.")
        var iterations = ScramMechanism.minimumIterations

        @Option(name: .customLong("password-file"), help: "A file whose first line is the password.")
        var passwordFile: String?

        func run() throws {
            guard !name.isEmpty else { throw ValidationError("the user name must not be empty") }
            guard (ScramMechanism.minimumIterations...ScramMechanism.maximumIterations).contains(iterations) else {
                throw ValidationError("--iterations must be between \(ScramMechanism.minimumIterations) and \(ScramMechanism.maximumIterations)")
            }
            let mechanisms = try mechanism.isEmpty ? ScramMechanism.allCases : mechanism.map { name in
                guard let parsed = ScramMechanism(name: name) else { throw ValidationError("--mechanism expects SCRAM-SHA-256 or SCRAM-SHA-512, got '\(name)'") }
                return parsed
            }
            let password = try readPassword()
            try CommandFailure.oneLine {
                try ScramCredentialStore.editingOffline(dataDirectory: dataDir) { store in
                    for mechanism in mechanisms {
                        try store.upsert(user: name, ScramCredentialStore.credential(password: password, mechanism: mechanism, iterations: iterations))
                    }
                }
            }
            print("user \(name): \(mechanisms.map(\.rawValue).joined(separator: ", ")) with \(iterations) iterations")
        }

        private func readPassword() throws -> String {
            let line: String?
            if let passwordFile {
                guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                    throw CommandFailure(message: "cannot read --password-file \(passwordFile)")
                }
                line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
            } else {
                line = Swift.readLine(strippingNewline: true)
            }
            guard let password = line, !password.isEmpty else { throw CommandFailure(message: "no password given (empty first line)") }
            return password
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user's SCRAM credentials.")

        @Argument(help: "The user name.")
        var name: String

        @Option(name: .customLong("data-dir"), help: "The broker's data directory.")
        var dataDir: String

        func run() throws {
            let removed = try CommandFailure.oneLine {
                try ScramCredentialStore.editingOffline(dataDirectory: dataDir) { store in
                    try ScramMechanism.allCases.filter { try store.remove(user: name, mechanism: $0) }
                }
            }
            guard !removed.isEmpty else { throw CommandFailure(message: "no user \(name) in \(dataDir)") }
            print("removed user \(name) (\(removed.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users with their mechanisms and iterations, never their keys.")

        @Option(name: .customLong("data-dir"), help: "The broker's data directory.")
        var dataDir: String

        func run() throws {
            let users = try CommandFailure.oneLine {
                try ScramCredentialStore.editingOffline(dataDirectory: dataDir) { $0.users() }
            }
            for (user, credentials) in users {
                print("\(user)\t" + credentials.map { "\($0.mechanism.rawValue) (\($0.iterations) iterations)" }.joined(separator: ", "))
            }
        }
    }
}
