#if canImport(Glibc)
import Glibc
#endif

/// A range of a segment file, with its own descriptor, for sending without copying (sendfile).
///
/// The descriptor is a duplicate taken under the partition's lock, so the bytes stay readable
/// even if the segment is deleted or replaced (retention, compaction) before they are sent.
/// Whoever sends the slice takes the descriptor; otherwise it is closed when the slice goes.
public final class FileSlice: @unchecked Sendable {
    public let position: Int
    public let length: Int
    private var descriptor: Int32

    init(descriptor: Int32, position: Int, length: Int) {
        self.descriptor = descriptor
        self.position = position
        self.length = length
    }

    /// Hands the descriptor to the caller, who must close it.
    public func takeDescriptor() -> Int32 {
        let fd = descriptor
        descriptor = -1
        return fd
    }

    /// Reads the bytes (for callers that cannot send from a file, and for tests).
    public func read() throws(LogStoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, length - done, off_t(position + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .io("read slice", errno: errno) }
            done += n
        }
        return bytes
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }
}
