import Foundation
import Mirror

/// How translations, failovers and the topology are printed: a table for people, or JSON
/// (`--json`) for scripts.
public enum OffsetReport {
    public static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public static func text(_ translation: GroupOffsetTranslator.Translation) -> String {
        func show(_ value: Int64?) -> String { value.map(String.init) ?? "-" }
        var lines = ["group \(translation.group), \(translation.source) -> \(translation.target)"
            + (translation.committed ? ": committed on \(translation.target)" : ": not committed")]
        var rows = [["TOPIC", "PARTITION", "SOURCE OFFSET", "TARGET OFFSET", "SOURCE END", "CHECKPOINT LAG", "COPY LAG", "END SEEN"]]
        for partition in translation.partitions {
            rows.append([partition.topic, String(partition.partition), String(partition.upstreamOffset), show(partition.offset), show(partition.sourceEnd),
                         show(partition.checkpointLag), show(partition.copyLag), partition.sourceEndTimestamp.map(seen) ?? "-"])
        }
        lines += TextTable.render(rows)
        return lines.joined(separator: "\n")
    }

    public static func text(_ topology: ReplicationTopology) -> String {
        var lines = TextTable.render([["FLOW", "LAST HEARTBEAT"]] + topology.edges.map { ["\($0.source)->\($0.target)", seen($0.timestamp)] })
        lines.append("")
        lines += TextTable.render([["CLUSTER", "UPSTREAM (HOPS)"]] + topology.clusters.keys.sorted().map { alias in
            let upstream = topology.clusters[alias]!.upstream.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
            return [alias, upstream.isEmpty ? "-" : upstream.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")]
        })
        for (alias, reason) in topology.unreachable.sorted(by: { $0.key < $1.key }) { lines.append("\(alias): unreachable: \(reason)") }
        return lines.joined(separator: "\n")
    }

    private static func seen(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
