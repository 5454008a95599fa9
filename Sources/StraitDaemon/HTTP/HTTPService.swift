import Foundation
import Hummingbird
import KafkaClient
import Logging
import ServiceLifecycle

/// The operator's HTTP endpoint: the status page (`/`), `/status` (JSON), `/metrics`
/// (Prometheus) and the probes. It starts before the sites, so that liveness answers while a
/// site recovers a large log, and stops after them.
struct HTTPService: Service {
    let listener: HTTPListener
    let monitor: DaemonMonitor
    let exporter: MetricsExporter
    let logger: Logger

    func run() async throws {
        let router = Router()
        let monitor = self.monitor
        let exporter = self.exporter
        router.get("/") { _, _ in
            Self.response(.ok, "text/html; charset=utf-8", StatusPage.html)
        }
        router.get("/status") { _, _ in
            Self.response(.ok, "application/json", Self.json(monitor.status()))
        }
        router.get("/metrics") { _, _ in
            Self.response(.ok, "text/plain; version=0.0.4; charset=utf-8", exporter.render(monitor.flowStatus))
        }
        // Liveness says only that the process answers: a remote cluster being away must not
        // fail it, or an orchestrator would restart a standby during the outage it is for.
        router.get("/health/live") { _, _ in
            Self.response(.ok, "text/plain", "live\n")
        }
        router.get("/health/ready") { _, _ in
            let reasons = monitor.notReady
            return reasons.isEmpty ? Self.response(.ok, "text/plain", "ready\n")
                : Self.response(.serviceUnavailable, "text/plain", reasons.joined(separator: "\n") + "\n")
        }
        var quiet = logger
        quiet.logLevel = .warning
        let address = "\(listener.host):\(listener.port)"
        let app = Application(router: router, configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "strait"),
                              onServerRunning: { channel in
                                  let bound = "\(listener.host):\(channel.localAddress?.port ?? listener.port)"
                                  monitor.httpListening(bound)
                                  logger.info("status page on http://\(bound)/, metrics on /metrics, status on /status")
                              },
                              logger: quiet)
        do {
            try await app.run()
        } catch is CancellationError {
            return
        } catch {
            throw listener.origin.failure("cannot listen on \(address): \(SocketErrorText.describe(error))")
        }
    }

    private static func response(_ status: HTTPResponse.Status, _ type: String, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}
