#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Socket failures in words an operator acts on ("connection refused", "address already in
/// use"), never an errno number or NIO's nested error values: these end up as the one line a
/// command prints or a log shows.
public enum SocketErrorText {
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return words(errno: error.errnoCode)
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return describe(failure.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve \(error.host)" }
            return "no address to connect to for \(error.host)"
        case ChannelError.connectTimeout(let timeout):
            return "timed out after \(timeout.nanoseconds / 1_000_000) ms"
        case ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed, ChannelError.outputClosed:
            return "connection closed"
        case let error as SocketAddressError:
            switch error {
            case .unknown(let host, _): return "cannot resolve \(host)"
            default: return "invalid address"
            }
        case let error as CustomStringConvertible:
            return error.description
        default:
            return "\(error)"
        }
    }

    /// The C library's message for an errno, starting lower case: "no such file or directory".
    public static func words(errno code: Int32) -> String {
        let text = String(cString: strerror(code))
        guard let first = text.first else { return "system error \(code)" }
        return first.lowercased() + text.dropFirst()
    }
}
