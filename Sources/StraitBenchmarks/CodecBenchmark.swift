import CKafkaShims
import Foundation
import KafkaProtocol
import NIOCore

/// Codec benchmarks: each figure beside a baseline measured in the same run, with the ratio.
///
/// - CRC32C: Strait's three-stream path against one stream of the same CPU instruction.
/// - RecordBatch: encode and decode of uncompressed batches of 100-byte values, records/s.
/// - Compression: Strait's `CompressionCodec` against a direct call into the C library on the
///   same input (for snappy, the xerial framing's overhead shows in the ratio).
@main
struct CodecBenchmark {
    static func measure(seconds: Double = 1.0, _ body: () throws -> Int) rethrows -> Double {
        // Warm up, then run whole iterations until the time is spent; returns units per second.
        _ = try body()
        var units = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            units += try body()
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return Double(units) / elapsed
    }

    static func line(_ name: String, _ value: Double, _ unit: String, baseline: Double? = nil, baselineName: String = "") {
        var text = "\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%10.2f", value)) \(unit)"
        if let baseline {
            text += String(format: "   %@ %10.2f %@   ratio %.2f", baselineName, baseline, unit, value / baseline)
        }
        print(text)
    }

    static func main() throws {
        let seconds = Double(ProcessInfo.processInfo.environment["STRAIT_BENCH_SECONDS"] ?? "") ?? 1.0
        print("CRC32C uses the CPU instruction: \(CRC32C.usesHardware)")

        // CRC32C over 1 MiB.
        var data = [UInt8](repeating: 0, count: 1 << 20)
        var generator = SystemRandomNumberGenerator()
        for index in data.indices { data[index] = UInt8.random(in: 0...255, using: &generator) }
        var sink: UInt32 = 0
        let ours = data.withUnsafeBytes { raw in
            measure(seconds: seconds) { sink ^= CRC32C.checksum(raw); return raw.count }
        }
        let single = data.withUnsafeBytes { raw in
            measure(seconds: seconds) { sink ^= strait_crc32c_single_stream(0, raw.baseAddress, raw.count); return raw.count }
        }
        line("crc32c 1 MiB", ours / 1e9, "GB/s", baseline: single / 1e9, baselineName: "single-stream instruction")

        // RecordBatch encode/decode: 1000 records of 100-byte values.
        let value = ByteBuffer(bytes: (0..<100).map { UInt8($0) })
        let records = (0..<1000).map { Record(timestampDelta: Int64($0), offsetDelta: Int32($0), key: nil, value: value) }
        let batch = RecordBatch(baseTimestamp: 1_700_000_000_000, records: records)
        let allocator = ByteBufferAllocator()
        let encodeRate = try measure(seconds: seconds) {
            _ = try batch.encoded(allocator: allocator)
            return records.count
        }
        let encoded = try batch.encoded()
        let decodeRate = try measure(seconds: seconds) {
            let view = try RecordBatchView(bytes: encoded)
            return try RecordBatch(view: view).records.count
        }
        let validateRate = try measure(seconds: seconds) {
            try RecordBatchView(bytes: encoded).validate()
            return 1
        }
        line("batch encode (100 B values)", encodeRate / 1e6, "M records/s")
        line("batch decode (100 B values)", decodeRate / 1e6, "M records/s")
        line("batch header validate (1000 rec)", validateRate / 1e3, "K batches/s")

        // Codecs on a batch body of JSON-like text: realistic, compressible.
        var text = ""
        var counter = 0
        while text.utf8.count < 1 << 20 {
            text += "{\"id\":\(counter),\"user\":\"user-\(counter % 977)\",\"event\":\"click\",\"ts\":\(1_700_000_000_000 + counter * 13)}\n"
            counter += 1
        }
        let input = ByteBuffer(string: text)
        let inputBytes = Array(text.utf8)
        for codec in [CompressionCodec.gzip, .snappy, .lz4, .zstd] {
            try codec.checkAvailable()
            let id = Int32(codec.rawValue)
            let compressRate = try measure(seconds: seconds) {
                _ = try codec.compress(input, allocator: allocator)
                return input.readableBytes
            }
            var scratch = [UInt8](repeating: 0, count: strait_codec_bound(id, inputBytes.count))
            let rawCompressRate = measure(seconds: seconds) {
                let size = inputBytes.withUnsafeBytes { src in
                    scratch.withUnsafeMutableBytes { dst in
                        strait_codec_compress(id, -1, src.baseAddress, src.count, dst.baseAddress, dst.count)
                    }
                }
                precondition(size > 0)
                return inputBytes.count
            }
            let compressed = try codec.compress(input)
            let decompressRate = try measure(seconds: seconds) {
                try codec.decompress(compressed).readableBytes
            }
            let rawInput: [UInt8] = inputBytes.withUnsafeBytes { src in
                scratch.withUnsafeMutableBytes { dst in
                    let size = strait_codec_compress(id, -1, src.baseAddress, src.count, dst.baseAddress, dst.count)
                    return Array(dst.prefix(size))
                }
            }
            let rawDecompressRate = measure(seconds: seconds) {
                var status: Int32 = 0
                var length = 0
                rawInput.withUnsafeBytes { raw in
                    let stream = strait_dstream_open(id, raw.baseAddress, raw.count, 1 << 28, &status)!
                    defer { strait_dstream_close(stream) }
                    scratch.withUnsafeMutableBytes { out in
                        while case let n = strait_dstream_read(stream, out.baseAddress, out.count), n > 0 { length += n }
                    }
                }
                return length
            }
            let ratio = Double(input.readableBytes) / Double(compressed.readableBytes)
            line("\(codec) compress (ratio \(String(format: "%.1f", ratio)))", compressRate / 1e6, "MB/s", baseline: rawCompressRate / 1e6, baselineName: "C library")
            line("\(codec) decompress", decompressRate / 1e6, "MB/s", baseline: rawDecompressRate / 1e6, baselineName: "C library")
        }
        if sink == 0x1234_5678 { print("") }
    }
}
