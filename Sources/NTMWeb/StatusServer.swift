import Foundation
import Hummingbird
import Logging
import NTMWatchCore
import Prometheus
import ServiceLifecycle

/// The daemon's HTTP endpoints for the monitoring an office already runs: `/metrics`
/// (Prometheus text format), `/healthz` (the scheduler loop woke recently) and `/readyz` (every
/// configured check has run since start). Served on the configured address only, loopback by
/// default; it changes nothing, so it needs no login. With a `console`, the web console's pages too.
public struct StatusServer: Service {
    let application: Application<RouterResponder<ConsoleRequestContext>>

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry, engine: Engine, daemon: DaemonService,
                console: Console? = nil, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) {
        let router = Hummingbird.Router(context: ConsoleRequestContext.self)
        console?.register(on: router)
        router.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("healthz") { _, _ -> Response in
            // The loop ticks every second; three missed ticks mean it is stuck.
            let age = Int(Date().timeIntervalSince1970) - daemon.lastTick.load(ordering: .relaxed)
            return age <= 3 ? Self.text(.ok, "ok\n") : Self.text(.serviceUnavailable, "the scheduler loop has not run for \(age) s\n")
        }
        router.get("readyz") { _, _ -> Response in
            await engine.allChecksHaveRun ? Self.text(.ok, "ready\n") : Self.text(.serviceUnavailable, "not every check has run yet\n")
        }
        application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "ntmwatchd"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    public func run() async throws {
        try await application.runService()
    }
}
