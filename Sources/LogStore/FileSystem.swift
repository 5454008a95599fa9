#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Small file-system helpers for the log and the broker's metadata files.
public enum FileSystem {
    /// The C library's words for an errno ("No such file or directory"): what a one-line error
    /// message says instead of the number.
    public static func describe(errno code: Int32) -> String {
        String(cString: strerror(code))
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates the directory and any missing parents (`mkdir -p`): a data directory named in a
    /// config file may sit under folders that do not exist yet.
    public static func makeDirectory(_ path: String) throws(LogStoreError) {
        if mkdir(path, 0o755) == 0 { return }
        let code = errno
        if code == EEXIST { return }
        let parent = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        guard code == ENOENT, !parent.isEmpty, parent != path else { throw .io("cannot create directory \(path)", errno: code) }
        try makeDirectory(parent)
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .io("cannot create directory \(path)", errno: errno) }
    }

    public static func makeDirectories(_ paths: [String]) throws(LogStoreError) {
        for path in paths { try makeDirectory(path) }
    }

    public static func remove(_ path: String) {
        unlink(path)
    }

    public static func move(_ from: String, _ to: String) throws(LogStoreError) {
        guard rename(from, to) == 0 else { throw .io("rename \(from)", errno: errno) }
    }

    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func removeTree(_ path: String) {
        for name in list(path) {
            let child = path + "/" + name
            var info = stat()
            if lstat(child, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                removeTree(child)
            } else {
                unlink(child)
            }
        }
        rmdir(path)
    }

    /// Reads a small text file whole.
    public static func readText(_ path: String) -> String? {
        guard let file = try? LogFile(path: path, create: false), let buffer = try? file.read(at: 0, length: file.size) else { return nil }
        return String(buffer: buffer)
    }

    /// Replaces a small file atomically: write a temporary file, fsync, rename over the target.
    public static func writeTextAtomically(_ text: String, to path: String) throws(LogStoreError) {
        try writeAtomically(ByteBuffer(string: text), to: path)
    }

    public static func writeAtomically(_ bytes: ByteBuffer, to path: String) throws(LogStoreError) {
        let temporary = path + ".tmp"
        remove(temporary)
        let file = try LogFile(path: temporary)
        try file.append(bytes)
        try file.sync()
        try move(temporary, path)
    }
}
