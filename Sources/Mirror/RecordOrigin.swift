import KafkaProtocol
import NIOCore

/// The `strait.origin` header: the clusters a record has been copied out of, comma-separated,
/// oldest first. Under the identity policy topic names cannot tell where a record came from,
/// so a record whose list holds the target is not copied there again (that stops loops in
/// active/active set-ups).
struct RecordOrigin {
    static let headerKey = "strait.origin"

    /// The clusters listed in the record's header.
    static func clusters(in headers: [RecordHeader]) -> [String] {
        guard let header = headers.last(where: { $0.key == headerKey }), let value = header.value else { return [] }
        return value.getString(at: value.readerIndex, length: value.readableBytes)?.split(separator: ",").map(String.init) ?? []
    }

    /// The headers with `source` added to the list.
    static func adding(_ source: String, to headers: [RecordHeader]) -> [RecordHeader] {
        let list = clusters(in: headers) + [source]
        return headers.filter { $0.key != headerKey } + [RecordHeader(key: headerKey, value: ByteBuffer(string: list.joined(separator: ",")))]
    }
}
