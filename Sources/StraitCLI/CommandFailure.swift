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
}
