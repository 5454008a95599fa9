import Broker
import Logging
import Mirror

/// Everything one daemon process runs: its embedded sites, the flows between any sites, and
/// the HTTP listener. Every configuration format is read into this, and checked here for what
/// can be known without touching the machine (two listeners on one port, two sites in one
/// directory), so that `strait check` catches it too.
public struct DaemonPlan: Sendable {
    public var sites: [EmbeddedSite]
    public var mirror: MirrorConfiguration
    public var http: HTTPListener?
    public var logLevel: Logger.Level

    public init(sites: [EmbeddedSite], mirror: MirrorConfiguration, http: HTTPListener?, logLevel: Logger.Level = .info) throws(DaemonFailure) {
        self.sites = sites
        self.mirror = mirror
        self.http = http
        self.logLevel = logLevel
        try checkListeners()
    }

    /// An `mm2.properties` file: a cluster with Strait's `<alias>.embedded.data.dir` is an
    /// embedded site listening on its one bootstrap address.
    public init(mm2 configuration: MirrorConfiguration, file: String, http: HTTPListener?) throws(DaemonFailure) {
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
        try self.init(sites: sites, mirror: configuration, http: http)
    }

    private func checkListeners() throws(DaemonFailure) {
        var taken: [(address: ListenAddress, owner: String)] = []
        var directories: [String: String] = [:]
        for site in sites {
            let address = ListenAddress(host: site.broker.listenHost, port: site.broker.listenPort)
            let origin = site.origins[.listener] ?? ConfigOrigin(file: "", line: nil, key: site.name)
            if let other = taken.first(where: { $0.address.overlaps(address) }) {
                throw origin.failure("\(address) is also where \(other.owner) listens")
            }
            taken.append((address, "site \(site.name)"))
            if let other = directories[site.broker.dataDirectory] {
                throw (site.origins[.dataDirectory] ?? origin).failure("\(site.broker.dataDirectory) is also the data directory of site \(other)")
            }
            directories[site.broker.dataDirectory] = site.name
        }
        if let http {
            let address = ListenAddress(host: http.host, port: http.port)
            if let other = taken.first(where: { $0.address.overlaps(address) }) {
                throw http.origin.failure("\(address) is also where \(other.owner) listens")
            }
        }
    }
}
