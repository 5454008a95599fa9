import Foundation
import KafkaProtocol
import ServiceLifecycle

/// The demo's view on standard output: in a terminal, a screen redrawn every second with the
/// sites, how to reach them, and per flow records/s, bytes/s, lag, p99 replication latency and
/// the last checkpoint; elsewhere (a pipe, a log file), the same figures as one plain line every
/// few seconds, so the output reads well in a log.
struct LiveView: Service {
    static let plainInterval = Duration.seconds(5)

    let monitor: DaemonMonitor
    let interactive: Bool
    let dataDirectory: String
    let temporary: Bool

    func run() async throws {
        if !interactive { write(introduction().joined(separator: "\n") + "\n") }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let status = monitor.status()
                if interactive {
                    // Home, draw, clear what is left of the previous screen.
                    write("\u{1B}[H" + screen(status).map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\n\u{1B}[J")
                } else {
                    for flow in status.flows { write(Self.timestamp() + " " + summary(flow, now: status.nowMs) + "\n") }
                }
                try? await Task.sleep(for: interactive ? .seconds(1) : Self.plainInterval)
            }
        }
        if interactive { write("\u{1B}[J") }
    }

    private func introduction() -> [String] {
        [
            "Strait demo: two sites on this machine and a flow copying every topic of east to west as east.<topic>.",
            "  east  \(Demo.east)   try: kcat -b \(Demo.east) -L",
            "  west  \(Demo.west)   try: kcat -b \(Demo.west) -C -t east.\(DemoTraffic.topic) -o beginning",
            "  Any Kafka client works: bootstrap.servers=\(Demo.east). A topic you create on east appears on west within 10 s.",
            "  Status page: http://\(Demo.http)/  (metrics on /metrics, JSON on /status)",
            "  Data: \(dataDirectory)\(temporary ? " (removed on exit)" : ""). Ctrl-C stops the demo.",
        ]
    }

    private func screen(_ status: StatusDocument) -> [String] {
        var lines = introduction() + [""]
        lines.append("  " + status.sites.map { "\($0.name) \($0.state)" }.joined(separator: ", ")
                     + (status.ready ? "" : "  (starting: " + status.notReady.joined(separator: "; ") + ")"))
        lines.append("")
        var rows = [["FLOW", "RECORDS/S", "BYTES/S", "LAG", "P99 LATENCY", "LAST CHECKPOINT", "COPIED"]]
        for flow in status.flows {
            rows.append([flow.flow, String(format: "%.1f", flow.recordRate), Self.bytes(flow.byteRate) + "/s", String(flow.lag),
                         flow.latencyP99Ms.map(Self.milliseconds) ?? "-", checkpoint(flow, now: status.nowMs), String(flow.records)])
        }
        lines += Self.table(rows).map { "  " + $0 }
        let events = status.events.suffix(5)
        if !events.isEmpty {
            lines.append("")
            lines.append("  Recent warnings and errors:")
            for event in events { lines.append("    \(event.level): \(event.message)".prefix(160).description) }
        }
        return lines
    }

    private func summary(_ flow: StatusDocument.Flow, now: Int64) -> String {
        "\(flow.flow): \(String(format: "%.1f", flow.recordRate)) records/s, \(Self.bytes(flow.byteRate))/s, lag \(flow.lag), "
            + "p99 latency \(flow.latencyP99Ms.map(Self.milliseconds) ?? "-"), last checkpoint \(checkpoint(flow, now: now)), "
            + "\(flow.records) records copied"
    }

    private func checkpoint(_ flow: StatusDocument.Flow, now: Int64) -> String {
        guard let last = flow.lastCheckpointMs else { return "none yet" }
        return "\(max(0, now - last) / 1000) s ago (\(flow.groups.count) group\(flow.groups.count == 1 ? "" : "s"))"
    }

    private static func bytes(_ value: Double) -> String {
        value >= 1_048_576 ? String(format: "%.1f MB", value / 1_048_576) : value >= 1024 ? String(format: "%.1f KB", value / 1024) : String(format: "%.0f B", value)
    }

    private static func milliseconds(_ value: Double) -> String {
        value >= 1000 ? String(format: "%.2f s", value / 1000) : String(format: "%.1f ms", value)
    }

    private static func timestamp() -> String {
        ISO8601DateFormatter().string(from: Date())
    }

    private static func table(_ rows: [[String]]) -> [String] {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index < widths.count { widths[index] = max(widths[index], cell.count) } else { widths.append(cell.count) }
            }
        }
        return rows.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
