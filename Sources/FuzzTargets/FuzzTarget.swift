import Foundation

/// One input to one part of Strait: what libFuzzer calls per input, and what the regression
/// tests replay from the corpus. A target never fails on bad input; a trap is a finding.
public protocol FuzzTarget: Sendable {
    func run(_ input: UnsafeRawBufferPointer)
}

extension FuzzTarget {
    /// Runs every file of `directory` (sorted, so a replay is repeatable); returns how many.
    @discardableResult
    public func replay(directory: String) throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        for name in names {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            bytes.withUnsafeBytes { run($0) }
        }
        return names.count
    }
}
