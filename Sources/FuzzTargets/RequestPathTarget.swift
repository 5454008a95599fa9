import Broker
import Dispatch
import Foundation
import KafkaProtocol
import Logging
import NIOCore

/// Fuzz target: bytes as one request frame (header and body, no size prefix) through the
/// broker's whole request path in process: the dispatcher, every handler, the coordinators
/// and the logs, over a data directory that lives as long as the process (state carries over
/// between inputs, as it does between a client's requests).
public final class RequestPathTarget: FuzzTarget {
    /// Requests that wait (a Fetch's max wait, a JoinGroup for its members) are cut off after
    /// this; the fuzzer is after crashes and hangs of the code, not of the protocol's timers.
    static let timeout = DispatchTimeInterval.milliseconds(250)

    let broker: InProcessBroker
    let directory: String

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("strait-fuzz-\(getpid())-\(UUID().uuidString)").path
        var config = BrokerConfig(dataDirectory: directory, properties: [
            // Few, small partitions: a CreateTopics of thousands would spend the run on files.
            "max.broker.partitions": "200",
            "log.segment.bytes": "1048576",
            "group.initial.rebalance.delay.ms": "0",
            "offsets.topic.num.partitions": "2",
            "transaction.state.log.num.partitions": "2",
        ])
        config.siteName = "fuzz"
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        let path = directory
        Task {
            do {
                result.broker = try await InProcessBroker(config: config, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
            } catch {
                result.error = "\(error)"
            }
            done.signal()
        }
        done.wait()
        guard let broker = result.broker else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "in-process broker at \(path): \(result.error ?? "?")"])
        }
        self.broker = broker
    }

    public func run(_ input: UnsafeRawBufferPointer) {
        let frame = ByteBuffer(bytes: input)
        let done = DispatchSemaphore(value: 0)
        let broker = self.broker
        let task = Task {
            if case .respondParts(let parts) = await broker.process(frame) {
                for case .file(let slice) in parts { _ = try? slice.read() }
            }
            done.signal()
        }
        if done.wait(timeout: .now() + Self.timeout) == .timedOut { task.cancel() }
    }

    deinit {
        broker.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Carries the broker out of the task that builds it.
private final class ResultBox: @unchecked Sendable {
    var broker: InProcessBroker?
    var error: String?
}
