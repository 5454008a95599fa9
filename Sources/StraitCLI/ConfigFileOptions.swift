import ArgumentParser
import StraitDaemon

/// The configuration file of `strait run` and `strait check`: exactly one of `--config` (YAML)
/// and `--mm2` (MirrorMaker 2's properties).
struct ConfigFileOptions: ParsableArguments {
    @Option(help: "A Strait configuration file (YAML): sites, flows, http, log.")
    var config: String?

    @Option(help: "A MirrorMaker 2 configuration (mm2.properties).")
    var mm2: String?

    func validate() throws {
        guard (config == nil) != (mm2 == nil) else { throw ValidationError("give one of --config FILE.yaml and --mm2 FILE") }
    }

    var path: String { config ?? mm2 ?? "" }

    func plan(http: String? = nil) throws -> DaemonPlan {
        if let config {
            guard http == nil else { throw ValidationError("--http goes with --mm2; a YAML file says http.listen") }
            return try DaemonConfigFile.read(config)
        }
        let configuration = try MirrorConfigurationFile.read(path)
        let listener = try http.map { text throws(DaemonFailure) in
            let address = try ListenAddress(parsing: text)
            return HTTPListener(host: address.host, port: address.port, origin: ConfigOrigin(file: "command line", line: nil, key: "--http"))
        }
        return try DaemonPlan(mm2: configuration, file: path, http: listener)
    }
}
