#if canImport(Glibc)
import Glibc
#endif

/// This machine's host name, which Kafka advertises for a listener bound to every interface
/// (0.0.0.0 is no address a client can connect to).
enum LocalHost {
    static func name() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
