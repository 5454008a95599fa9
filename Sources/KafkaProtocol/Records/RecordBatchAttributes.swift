/// The INT16 attributes of a RecordBatch v2.
///
/// Bits 0–2 compression codec, bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional,
/// bit 5 control batch, bit 6 delete horizon set (KIP-534; the base timestamp is then the
/// horizon for tombstones in a compacted log).
public struct RecordBatchAttributes: Equatable, Hashable, Sendable {
    public var rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    public init(compression: CompressionCodec = .none, timestampType: TimestampType = .createTime, isTransactional: Bool = false, isControl: Bool = false) {
        rawValue = compression.rawValue
        if timestampType == .logAppendTime { rawValue |= 0x08 }
        if isTransactional { rawValue |= 0x10 }
        if isControl { rawValue |= 0x20 }
    }

    /// The codec, or nil for the values 5–7 that no Kafka version defines.
    public var compression: CompressionCodec? {
        get { CompressionCodec(rawValue: rawValue & 0x07) }
        set { rawValue = (rawValue & ~0x07) | (newValue ?? .none).rawValue }
    }

    public var timestampType: TimestampType {
        get { rawValue & 0x08 != 0 ? .logAppendTime : .createTime }
        set { rawValue = newValue == .logAppendTime ? rawValue | 0x08 : rawValue & ~0x08 }
    }

    public var isTransactional: Bool {
        get { rawValue & 0x10 != 0 }
        set { rawValue = newValue ? rawValue | 0x10 : rawValue & ~0x10 }
    }

    public var isControl: Bool {
        get { rawValue & 0x20 != 0 }
        set { rawValue = newValue ? rawValue | 0x20 : rawValue & ~0x20 }
    }

    public var hasDeleteHorizon: Bool {
        rawValue & 0x40 != 0
    }
}

/// Which clock a record's timestamp comes from (`message.timestamp.type`).
public enum TimestampType: Sendable {
    case createTime
    case logAppendTime
}
