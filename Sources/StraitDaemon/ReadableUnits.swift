import Foundation

/// Sizes, latencies and ages as people read them ("2.1 KB", "4.3 ms", "3 min 2 s").
enum ReadableUnits {
    static func bytes(_ value: Double) -> String {
        value >= 1_073_741_824 ? String(format: "%.1f GB", value / 1_073_741_824)
            : value >= 1_048_576 ? String(format: "%.1f MB", value / 1_048_576)
            : value >= 1024 ? String(format: "%.1f KB", value / 1024) : String(format: "%.0f B", value)
    }

    static func milliseconds(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.2f s", value / 1000) : String(format: "%.1f ms", value)
    }

    static func duration(_ milliseconds: Int64) -> String {
        let seconds = max(0, milliseconds) / 1000
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }

    static func rate(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
