import Foundation
import Mirror

/// The agent's state as operators read it: Prometheus metrics and a JSON status, one entry
/// per flow, with every data-loss alarm.
enum MirrorReport {
    static func metrics(_ flows: [FlowStatus]) -> String {
        let families: [(String, String, String, (FlowStatus) -> Int64)] = [
            ("strait_mirror_records_total", "counter", "Records copied to the target and acknowledged.", { $0.records }),
            ("strait_mirror_bytes_total", "counter", "Bytes of record batches acknowledged by the target.", { $0.bytes }),
            ("strait_mirror_batches_forwarded_total", "counter", "Source batches sent without decoding their records.", { $0.batchesForwarded }),
            ("strait_mirror_batches_rewritten_total", "counter", "Batches written again (gaps, control records, size, origin header).", { $0.batchesRewritten }),
            ("strait_mirror_records_skipped_total", "counter", "Records not copied because they came from the target.", { $0.recordsSkipped }),
            ("strait_mirror_restarts_total", "counter", "Times the data path resumed from acknowledged offsets after a failure.", { $0.restarts }),
            ("strait_mirror_data_loss_events_total", "counter", "Source records lost before they were copied, or topics recreated.", { $0.dataLossEvents }),
            ("strait_mirror_stopped_partitions", "gauge", "Partitions stopped by an alarm.", { Int64($0.alarms.filter(\.stopped).count) }),
            ("strait_mirror_assigned_partitions", "gauge", "Source partitions this agent copies.", { Int64($0.assignedPartitions) }),
            ("strait_mirror_topics", "gauge", "Source topics the flow replicates.", { Int64($0.topics) }),
            ("strait_mirror_checkpoints_total", "counter", "Checkpoints written to the target.", { $0.checkpoints }),
            ("strait_mirror_heartbeats_total", "counter", "Heartbeats written to the target.", { $0.heartbeats }),
            ("strait_mirror_offset_map_runs", "gauge", "Runs of the offset map held for this agent's partitions.", { Int64($0.offsetMapRuns) }),
        ]
        var text = ""
        for (name, type, help, value) in families {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for flow in flows { text += "\(name){flow=\"\(flow.flow)\"} \(value(flow))\n" }
        }
        return text
    }

    static func status(_ flows: [FlowStatus]) -> String {
        let entries: [[String: Any]] = flows.map { flow in
            ["flow": flow.flow, "records": flow.records, "bytes": flow.bytes, "batchesForwarded": flow.batchesForwarded,
             "batchesRewritten": flow.batchesRewritten, "recordsSkipped": flow.recordsSkipped, "restarts": flow.restarts,
             "dataLossEvents": flow.dataLossEvents, "assignedPartitions": flow.assignedPartitions, "topics": flow.topics,
             "checkpoints": flow.checkpoints, "heartbeats": flow.heartbeats, "offsetMapRuns": flow.offsetMapRuns,
             "alarms": flow.alarms.map { ["topic": $0.topic, "partition": $0.partition, "message": $0.message, "stopped": $0.stopped] }]
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["flows": entries], options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
