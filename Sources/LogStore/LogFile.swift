#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A file opened for positioned reads and appends, closed explicitly.
///
/// Blocking system calls on purpose: segment I/O hits the page cache, and a thread hop per call
/// would cost more than the call.
public final class LogFile: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32
    /// Bytes in the file; appends go here.
    public private(set) var size: Int

    public init(path: String, create: Bool = true) throws(LogStoreError) {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw .io("open \(path)", errno: errno) }
        descriptor = fd
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .io("stat \(path)", errno: code)
        }
        size = Int(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    public func append(_ buffer: ByteBuffer) throws(LogStoreError) {
        try write(buffer, at: size)
    }

    public func write(_ buffer: ByteBuffer, at position: Int) throws(LogStoreError) {
        let result: Int = buffer.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(position + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return -Int(errno)
                }
                done += n
            }
            return done
        }
        guard result >= 0 else { throw .io("write \(path)", errno: Int32(-result)) }
        size = max(size, position + result)
    }

    /// Reads up to `length` bytes at `position` (fewer at the end of the file).
    public func read(at position: Int, length: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(LogStoreError) -> ByteBuffer {
        let wanted = max(0, min(length, size - position))
        var buffer = allocator.buffer(capacity: wanted)
        guard wanted > 0 else { return buffer }
        let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { raw -> Int in
            var done = 0
            while done < wanted {
                let n = pread(descriptor, raw.baseAddress! + done, wanted - done, off_t(position + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return -Int(errno)
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        if result < 0 {
            buffer.moveWriterIndex(to: 0)
            throw .io("read \(path)", errno: Int32(-result))
        }
        return buffer
    }

    public func truncate(to length: Int) throws(LogStoreError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw .io("truncate \(path)", errno: errno) }
        size = length
    }

    /// A new descriptor for the same open file (see `FileSlice`).
    public func duplicateDescriptor() throws(LogStoreError) -> Int32 {
        let fd = dup(descriptor)
        guard fd >= 0 else { throw .io("dup \(path)", errno: errno) }
        return fd
    }

    /// Forces written data to disk (`flush.messages`, `flush.ms`, clean shutdown).
    public func sync() throws(LogStoreError) {
        guard fsync(descriptor) == 0 else { throw .io("fsync \(path)", errno: errno) }
    }
}
