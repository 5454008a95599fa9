import NIOCore

/// The key and value of a record in a control batch: a transaction marker (KIP-98).
///
/// Key: version INT16 (0), type INT16 (0 abort, 1 commit). Value of a marker: version INT16 (0),
/// coordinatorEpoch INT32.
public struct ControlRecord: Equatable, Sendable {
    public enum ControlType: Int16, Sendable {
        case abort = 0
        case commit = 1
    }

    public var type: ControlType
    public var coordinatorEpoch: Int32

    public init(type: ControlType, coordinatorEpoch: Int32) {
        self.type = type
        self.coordinatorEpoch = coordinatorEpoch
    }

    public init(record: Record) throws(KafkaCodecError) {
        guard var key = record.key else { throw .corrupt("control record without a key") }
        _ = try key.readKafkaInteger("control key version", as: Int16.self)
        let raw: Int16 = try key.readKafkaInteger("control type")
        guard let type = ControlType(rawValue: raw) else { throw .corrupt("unknown control record type \(raw)") }
        self.type = type
        if var value = record.value, value.readableBytes >= 6 {
            _ = try value.readKafkaInteger("marker version", as: Int16.self)
            coordinatorEpoch = try value.readKafkaInteger("coordinatorEpoch")
        } else {
            coordinatorEpoch = -1
        }
    }

    /// The record of a marker batch (offset delta 0).
    public func record() -> Record {
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(type.rawValue)
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(coordinatorEpoch)
        return Record(offsetDelta: 0, key: key, value: value)
    }
}
