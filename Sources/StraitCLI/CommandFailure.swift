/// A failure while a command runs (as opposed to bad arguments): ArgumentParser prints its
/// description on one line, without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: Error) {
        description = "\(error)"
    }

    init(message: String) {
        description = message
    }

    /// Runs `body`, turning any failure into one line.
    static func oneLine<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(error)
        }
    }

    /// Runs `body`, turning any failure into one line.
    static func oneLine<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure(error)
        }
    }
}
