import Foundation

/// A source position as MirrorMaker 2 stores it: Kafka Connect's offset storage record for
/// `MirrorSourceConnector`. The key is the JSON array `["MirrorSourceConnector",{"cluster":
/// alias,"partition":n,"topic":name}]`, the value `{"offset":n}` where n is the offset of the
/// last record copied (the task resumes at n + 1); a null value forgets the partition. Same
/// bytes as MM2 writes, so either can take over from the other.
struct SourceOffsetRecord: Equatable {
    static let connectorName = "MirrorSourceConnector"

    var cluster: String
    var topic: String
    var partition: Int32
    /// The last copied offset, or nil for a tombstone.
    var offset: Int64?

    var key: String {
        "[\(Self.quoted(Self.connectorName)),{\"cluster\":\(Self.quoted(cluster)),\"partition\":\(partition),\"topic\":\(Self.quoted(topic))}]"
    }

    var value: String? { offset.map { "{\"offset\":\($0)}" } }

    /// Reads a record of the offsets topic; nil for other connectors' records or anything that
    /// is not an offset record (the topic is shared with whatever else Connect stores there).
    init?(key: [UInt8], value: [UInt8]?) {
        guard let array = try? JSONSerialization.jsonObject(with: Data(key)) as? [Any], array.count == 2,
              array[0] as? String == Self.connectorName, let partition = array[1] as? [String: Any],
              let cluster = partition["cluster"] as? String, let topic = partition["topic"] as? String,
              let number = partition["partition"] as? NSNumber else { return nil }
        self.cluster = cluster
        self.topic = topic
        self.partition = number.int32Value
        guard let value else {
            offset = nil
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
              let offset = object["offset"] as? NSNumber else { return nil }
        self.offset = offset.int64Value
    }

    init(cluster: String, topic: String, partition: Int32, offset: Int64?) {
        self.cluster = cluster
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
