import Foundation
import KafkaProtocol
import XCTest

/// Every top-level message type the codec implements, by Kafka's name.
enum MessageCatalog {
    static let all: [String: any KafkaMessage.Type] = {
        var types: [String: any KafkaMessage.Type] = [:]
        for key in ApiKey.allCases {
            types[String(describing: key.requestType)] = key.requestType
            types[String(describing: key.responseType)] = key.responseType
        }
        types["ConsumerProtocolSubscription"] = ConsumerProtocolSubscription.self
        types["ConsumerProtocolAssignment"] = ConsumerProtocolAssignment.self
        return types
    }()
}

/// Runs the repository's Python helpers. A missing interpreter or module is a test failure,
/// never a skip: the README's test command installs them.
enum Python {
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    static let oracleDirectory = repositoryRoot.appendingPathComponent("Tests/KafkaProtocolTests/Oracle")

    @discardableResult
    static func run(_ script: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", oracleDirectory.appendingPathComponent(script).path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("strait-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }
}
