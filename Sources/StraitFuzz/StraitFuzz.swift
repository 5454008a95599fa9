import Foundation
import FuzzTargets

/// `strait-fuzz`: the coverage-guided fuzzer's entry points (built with `-sanitize=fuzzer
/// -DFUZZING` by `Tests/fuzz.sh`; libFuzzer supplies `main`), and otherwise a replayer:
/// `strait-fuzz requests|records FILE...` runs files through a target, as a crash reproducer.
enum Targets {
    static func make(_ name: String) throws -> any FuzzTarget {
        switch name {
        case "requests": return try RequestPathTarget()
        case "records": return RecordBatchTarget()
        default: throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "unknown fuzz target '\(name)' (requests or records)"])
        }
    }
}

#if FUZZING
import CLibFuzzer

/// Chosen once from STRAIT_FUZZ_TARGET, before libFuzzer's loop starts.
nonisolated(unsafe) private var selected: (any FuzzTarget)?

/// The executable's entry point (SwiftPM links `main` to it): picks the target, then hands
/// over to libFuzzer's driver with the command line.
@_cdecl("StraitFuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    let name = ProcessInfo.processInfo.environment["STRAIT_FUZZ_TARGET"] ?? ""
    do {
        selected = try Targets.make(name)
    } catch {
        FileHandle.standardError.write(Data("strait-fuzz: \(error.localizedDescription); set STRAIT_FUZZ_TARGET\n".utf8))
        return 2
    }
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzTestOneInput(data, size) }
}

/// libFuzzer's per-input callback, by the name its runtime also expects to find.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
struct StraitFuzz {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, arguments.count > 1 else {
            FileHandle.standardError.write(Data("usage: strait-fuzz requests|records FILE...\n".utf8))
            exit(2)
        }
        let target = try Targets.make(name)
        for path in arguments.dropFirst() {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes.withUnsafeBytes { target.run($0) }
            print("\(path): ok")
        }
    }
}
#endif
