import CKafkaShims
import NIOCore

/// CRC32C (Castagnoli), the checksum of RecordBatch v2.
///
/// Uses the CPU's CRC32C instruction on three interleaved streams where the CPU has it
/// (SSE4.2), and a slicing-by-8 table otherwise.
public enum CRC32C {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        strait_crc32c(crc, bytes.baseAddress, bytes.count)
    }

    /// The checksum of the readable bytes of `buffer`.
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { checksum($0) }
    }

    public static func checksum<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// Table-driven result, for checking the hardware path.
    public static func portableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        strait_crc32c_portable(crc, bytes.baseAddress, bytes.count)
    }

    /// Whether this process computes CRC32C with the CPU instruction.
    public static var usesHardware: Bool { strait_crc32c_hardware() != 0 }
}
