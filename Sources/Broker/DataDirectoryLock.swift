#if canImport(Glibc)
import Glibc
#endif
import LogStore

/// An exclusive `flock` on `<data>/.lock`, so two brokers never share a data directory.
struct DataDirectoryLock: Sendable {
    private let descriptor: Int32

    init(directory: String) throws(KafkaError) {
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw KafkaError(.kafkaStorageError, "cannot open \(path): \(FileSystem.describe(errno: errno))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw KafkaError(.kafkaStorageError, "data directory \(directory) is in use by another process")
        }
        descriptor = fd
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
