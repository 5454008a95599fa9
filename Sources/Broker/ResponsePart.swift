import LogStore
import NIOCore

/// A piece of a response frame: encoded bytes, or a range of a segment file sent as it is.
public enum ResponsePart: Sendable {
    case bytes(ByteBuffer)
    case file(FileSlice)

    var length: Int {
        switch self {
        case .bytes(let buffer): return buffer.readableBytes
        case .file(let slice): return slice.length
        }
    }
}
