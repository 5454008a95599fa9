import Foundation

/// `strait status`: a running daemon's `/status` as tables for people.
public enum StatusTable {
    public static func text(_ status: StatusDocument) -> String {
        var lines = ["strait \(status.version), up \(ReadableUnits.duration(status.nowMs - status.startedMs)), "
            + (status.ready ? "ready" : "not ready: " + status.notReady.joined(separator: "; "))]
        lines.append("")
        var sites = [["SITE", "KIND", "ADDRESS", "STATE", "TOPICS", "PARTITIONS", "LOG SIZE", "GROUPS", "CONNECTIONS"]]
        for site in status.sites {
            let state = site.state + (site.error.map { ": \($0)" } ?? "")
            let size = site.logBytes.map { ReadableUnits.bytes(Double($0)) } ?? "-"
            sites.append([site.name, site.embedded ? "embedded" : "external", site.address, state, show(site.topics), show(site.partitions), size,
                          show(site.groups), show(site.connections)])
        }
        lines += TextTable.render(sites)
        for flow in status.flows {
            lines.append("")
            lines.append("flow \(flow.flow): \(flow.records) records copied, \(ReadableUnits.rate(flow.recordRate)) records/s, "
                + "\(ReadableUnits.bytes(flow.byteRate))/s, lag \(flow.lag), p99 latency \(flow.latencyP99Ms.map(ReadableUnits.milliseconds) ?? "-"), "
                + "last checkpoint \(flow.lastCheckpointMs.map { ReadableUnits.duration(status.nowMs - $0) + " ago" } ?? "none")")
            if !flow.partitions.isEmpty {
                lines += TextTable.render([["TOPIC", "PARTITION", "TARGET TOPIC", "SOURCE END", "POSITION", "LAG", "RECORDS/S", "P99 LATENCY"]] + flow.partitions.map { partition in
                    [partition.topic, String(partition.partition), partition.targetTopic, show(partition.sourceEnd), show(partition.position),
                     show(partition.lag), ReadableUnits.rate(partition.recordRate), partition.latencyP99Ms.map(ReadableUnits.milliseconds) ?? "-"]
                }).map { "  " + $0 }
            }
            if !flow.groups.isEmpty {
                lines += TextTable.render([["GROUP", "LAST CHECKPOINT", "PARTITIONS"]] + flow.groups.map { group in
                    [group.group, ReadableUnits.duration(status.nowMs - group.lastCheckpointMs) + " ago", String(group.partitions)]
                }).map { "  " + $0 }
            }
            for alarm in flow.alarms {
                lines.append("  ALARM \(alarm.topic)-\(alarm.partition): \(alarm.message)")
            }
        }
        if let error = status.lastError {
            lines.append("")
            lines.append("last error \(ReadableUnits.duration(status.nowMs - error.timeMs)) ago: \(error.message)")
        }
        return lines.joined(separator: "\n")
    }

    private static func show<T>(_ value: T?) -> String {
        value.map { "\($0)" } ?? "-"
    }
}
