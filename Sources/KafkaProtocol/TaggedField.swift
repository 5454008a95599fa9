import NIOCore

/// One encoded tagged field (KIP-482): its tag and raw bytes.
///
/// Messages keep the tagged fields they do not know in `unknownTaggedFields` and write them back
/// unchanged, so a message passing through Strait loses nothing a newer peer added.
public struct TaggedField: Equatable, Sendable {
    public var tag: UInt32
    public var data: ByteBuffer

    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}
