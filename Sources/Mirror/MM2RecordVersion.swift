import KafkaProtocol
import NIOCore

/// The version header of MM2's heartbeat and checkpoint values: only version 0 exists, and a
/// reader that met a newer one could not know its fields.
enum MM2RecordVersion {
    static let current: Int16 = 0

    static func check(_ value: inout ByteBuffer, record: String) throws(KafkaCodecError) {
        let version: Int16 = try value.readKafkaInteger("version")
        guard version == current else { throw .corrupt("\(record) value version \(version) is not supported") }
    }
}
