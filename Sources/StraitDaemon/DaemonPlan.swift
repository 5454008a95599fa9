import Broker
import Logging
import Mirror

/// Everything one daemon process runs: its embedded sites, the flows between any sites, and
/// the HTTP listener. Every configuration format is read into this.
public struct DaemonPlan: Sendable {
    public var sites: [EmbeddedSite]
    public var mirror: MirrorConfiguration
    public var http: HTTPListener?
    public var logLevel: Logger.Level

    public init(sites: [EmbeddedSite], mirror: MirrorConfiguration, http: HTTPListener?, logLevel: Logger.Level = .info) {
        self.sites = sites
        self.mirror = mirror
        self.http = http
        self.logLevel = logLevel
    }

    /// An `mm2.properties` file: a cluster with Strait's `<alias>.embedded.data.dir` is an
    /// embedded site listening on its one bootstrap address.
    public init(mm2 configuration: MirrorConfiguration, file: String, http: HTTPListener?) {
        func origin(_ key: String) -> ConfigOrigin { ConfigOrigin(file: file, line: configuration.lines[key], key: key) }
        var sites: [EmbeddedSite] = []
        for cluster in configuration.clusters.values.sorted(by: { $0.alias < $1.alias }) {
            guard let directory = cluster.embeddedDataDirectory, let address = cluster.client.bootstrapServers.first else { continue }
            let config = BrokerConfig(listenHost: address.host, listenPort: address.port, dataDirectory: directory)
            sites.append(EmbeddedSite(name: cluster.alias, broker: config, origins: [
                .dataDirectory: origin("\(cluster.alias).embedded.data.dir"),
                .listener: origin("\(cluster.alias).bootstrap.servers"),
            ]))
        }
        self.init(sites: sites, mirror: configuration, http: http)
    }
}
