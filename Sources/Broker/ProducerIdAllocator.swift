import LogStore
import NIOConcurrencyHelpers

/// Hands out producer ids that are never reused, even across restarts.
///
/// File `meta/producer-id-block`: one decimal line, the first id of the next block. Ids are
/// reserved a block of 1000 at a time (the file is rewritten once per block), as Kafka's
/// controller hands out blocks to brokers.
final class ProducerIdAllocator: Sendable {
    static let blockSize: Int64 = 1000

    private struct State {
        var next: Int64
        var blockEnd: Int64
    }

    private let path: String
    private let state: NIOLockedValueBox<State>

    init(dataDirectory: String) {
        path = dataDirectory + "/meta/producer-id-block"
        let start = FileSystem.readText(path).flatMap { Int64($0.trimmingWhitespace()) } ?? 0
        state = NIOLockedValueBox(State(next: start, blockEnd: start))
    }

    func allocate() throws(KafkaError) -> Int64 {
        let result = state.withLockedValue { state -> Result<Int64, KafkaError> in
            if state.next >= state.blockEnd {
                let end = state.next + Self.blockSize
                do {
                    try FileSystem.writeTextAtomically("\(end)\n", to: path)
                } catch {
                    return .failure(KafkaError(.kafkaStorageError, "\(error)"))
                }
                state.blockEnd = end
            }
            defer { state.next += 1 }
            return .success(state.next)
        }
        return try result.get()
    }
}
