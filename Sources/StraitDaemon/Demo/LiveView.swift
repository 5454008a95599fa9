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
            rows.append([flow.flow, ReadableUnits.rate(flow.recordRate), ReadableUnits.bytes(flow.byteRate) + "/s", String(flow.lag),
                         flow.latencyP99Ms.map(ReadableUnits.milliseconds) ?? "-", checkpoint(flow, now: status.nowMs), String(flow.records)])
        }
        lines += TextTable.render(rows).map { "  " + $0 }
        let events = status.events.suffix(5)
        if !events.isEmpty {
            lines.append("")
            lines.append("  Recent warnings and errors:")
            for event in events { lines.append("    \(event.level): \(event.message)".prefix(160).description) }
        }
        return lines
    }

    private func summary(_ flow: StatusDocument.Flow, now: Int64) -> String {
        "\(flow.flow): \(ReadableUnits.rate(flow.recordRate)) records/s, \(ReadableUnits.bytes(flow.byteRate))/s, lag \(flow.lag), "
            + "p99 latency \(flow.latencyP99Ms.map(ReadableUnits.milliseconds) ?? "-"), last checkpoint \(checkpoint(flow, now: now)), "
            + "\(flow.records) records copied"
    }

    private func checkpoint(_ flow: StatusDocument.Flow, now: Int64) -> String {
        guard let last = flow.lastCheckpointMs else { return "none yet" }
        return "\(max(0, now - last) / 1000) s ago (\(flow.groups.count) group\(flow.groups.count == 1 ? "" : "s"))"
    }

    private static func timestamp() -> String {
        ISO8601DateFormatter().string(from: Date())
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
