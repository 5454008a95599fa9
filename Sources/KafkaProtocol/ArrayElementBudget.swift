/// How many array elements one request may hold in all, while it is decoded.
///
/// Each element of a request becomes at least one element of its response, usually a larger
/// one: a 100 MiB DeleteTopics of one-byte names would otherwise build a response of gigabytes.
/// The broker decodes requests inside `withLimit`; outside it (the client's responses) no
/// budget applies and counts are bounded by the bytes left alone.
public final class ArrayElementBudget: @unchecked Sendable {
    /// Enough for any request a real client sends (a fetch of every partition of a large cluster).
    public static let requestDefault = 1_000_000

    @TaskLocal static var current: ArrayElementBudget?

    private let limit: Int
    /// Only ever touched by the task that decodes, inside `withLimit`.
    private var left: Int

    private init(limit: Int) {
        self.limit = limit
        left = limit
    }

    /// Runs `decode` with at most `limit` array elements allowed in all.
    public static func withLimit<T>(_ limit: Int, _ decode: () throws(KafkaCodecError) -> T) throws(KafkaCodecError) -> T {
        do {
            return try $current.withValue(ArrayElementBudget(limit: limit)) { try decode() }
        } catch let error as KafkaCodecError {
            throw error
        } catch {
            throw .corrupt("\(error)")
        }
    }

    @usableFromInline
    static func spend(_ count: Int, field: StaticString) throws(KafkaCodecError) {
        guard let budget = current else { return }
        budget.left -= count
        guard budget.left >= 0 else {
            throw .corrupt("more than the \(budget.limit) array elements a request may hold in all (at \(field))")
        }
    }
}
