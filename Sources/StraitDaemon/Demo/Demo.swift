import Foundation
import Logging

/// `strait demo`: Strait's main job on this machine with nothing to set up. Two embedded sites
/// (east on 127.0.0.1:9092, west on 127.0.0.1:9093), a flow copying every topic of east to west
/// as `east.<topic>`, a topic with a steady trickle of records and a consumer group reading it
/// (so checkpoints appear), the status page on 127.0.0.1:9464, and a live view until Ctrl-C.
public enum Demo {
    public static let east = "127.0.0.1:9092"
    public static let west = "127.0.0.1:9093"
    public static let http = "127.0.0.1:9464"

    /// `dataDirectory` nil: a temporary directory, removed when the demo stops.
    public static func run(dataDirectory: String?) async throws {
        let temporary = dataDirectory == nil
        let root = try dataDirectory ?? makeTemporaryDirectory()
        defer { if temporary { try? FileManager.default.removeItem(atPath: root) } }
        let interactive = isatty(STDOUT_FILENO) == 1
        var plan = try DaemonConfigFile.parse(configuration(root), file: "strait demo")
        // A redrawn screen and log lines do not mix: in a terminal the view shows warnings and
        // errors itself, and only critical ones go to standard error.
        plan.logLevel = interactive ? .critical : .info
        try await Daemon.run(plan) { monitor in
            [DemoTraffic(monitor: monitor, bootstrap: east),
             LiveView(monitor: monitor, interactive: interactive, dataDirectory: root, temporary: temporary)]
        }
    }

    /// The demo's configuration, in the YAML a user would write for it (docs/quickstart.md
    /// shows the same file), so the demo runs exactly what `strait run --config` runs.
    static func configuration(_ root: String) -> String {
        """
        http:
          listen: \(http)
        sites:
          east:
            listen: \(east)
            data.dir: \(root)/east
            broker:
              num.partitions: 3
          west:
            listen: \(west)
            data.dir: \(root)/west
        flows:
          - source: east
            target: west
            topics: [".*"]
            refresh.topics.interval.seconds: 5
            emit.checkpoints.interval.seconds: 5
        """
    }

    private static func makeTemporaryDirectory() throws(DaemonFailure) -> String {
        let temporary = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        var template = Array((temporary + "strait-demo.XXXXXX").utf8CString)
        guard let path = mkdtemp(&template) else { throw DaemonFailure("cannot create a temporary directory: \(String(cString: strerror(errno)))") }
        return String(cString: path)
    }
}
