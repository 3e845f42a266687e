import ArgumentParser
import Foundation
import Logging
import NTMAlerting
import NTMDelivery
import NTMStore
import NTMWatchCore
import NTMWeb
import Prometheus
import ServiceLifecycle

@main
struct NTMWatchDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntmwatchd",
        abstract: "Monitors the NTM programme store with check modules and raises alerts to journald and webhook files.")

    @Option(help: "The configuration file.")
    var config = "/etc/ntmwatch/ntmwatch.yaml"

    @Flag(help: "Run one full cycle with notifications, then exit (tests, backfills).")
    var once = false

    @Option(help: "With --once: the instant to evaluate as of (ISO 8601 or YYYY-MM-DD, Vietnam time).")
    var at: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    static func main() async {
        // The module host re-runs this binary to test a library and to contain an executable's run.
        ModuleHostCommands.runIfRequested()
        DaemonService.tuneMalloc()
        await main(nil)
    }

    func run() async throws {
        DaemonLogging.bootstrap(level: logLevel)
        let logger = Logger(label: "ntmwatchd")
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            logger.critical("invalid configuration: \(Redaction.redact(error.text(in: .en)))")
            FileHandle.standardError.write(Data("ntmwatchd: \(Redaction.redact(error.text(in: .vi)))\n".utf8))
            throw ExitCode(78)  // EX_CONFIG: systemd's Restart=on-failure will not loop on it forever
        }
        let instant: Date
        if let at {
            guard once else { throw ValidationError("--at goes with --once") }
            guard let parsed = InstantText.parse(at) else { throw ValidationError("--at: '\(at)' is not an ISO 8601 instant or YYYY-MM-DD") }
            instant = parsed
        } else {
            instant = Date()
        }
        let engine: Engine
        let lock: InstanceLock
        let registry = PrometheusCollectorRegistry()
        do {
            lock = try InstanceLock(stateDirectory: configuration.stateDirectory)
        } catch {
            logger.critical("cannot start: \(error)")
            FileHandle.standardError.write(Data("ntmwatchd: \(error)\n".utf8))
            throw ExitCode.failure
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            engine = try await Engine.start(configuration, logger: logger, metrics: DaemonMetrics(factory: HelpfulPrometheusFactory(registry: registry)))
        } catch {
            logger.critical("cannot start: \(Redaction.redact("\(error)"))")
            FileHandle.standardError.write(Data("ntmwatchd: \(Redaction.redact("\(error)"))\n".utf8))
            throw ExitCode.failure
        }
        if once {
            try await engine.runCycle(at: instant)
            // Counted and formatted only to be logged: a national state holds 70,000 open alerts.
            if logger.logLevel <= .notice {
                let status = await engine.statusLine()
                logger.notice("one cycle done: \(status)")
            }
            await engine.close()
            // Nothing is left to write: the process ends without freeing the cycle's alerts and
            // modules one by one, which took the last 0.2 s of a national `--once` (issue 21).
            // The kernel releases the memory and the instance lock.
            Foundation.exit(EXIT_SUCCESS)
        }
        let daemon = DaemonService(configPath: config, engine: engine, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: daemon)]
        var console: Console?
        if let listen = configuration.httpListen {
            do {
                console = try configuration.console.map { try Console(settings: $0, configuration: configuration, engine: engine) }
            } catch {
                // A broken password file must not stop the monitoring; the pages stay off until it is fixed.
                logger.error("the web console is off: \(error)")
                console = nil
            }
            let serving = console != nil
            let server = StatusServer(host: listen.host, port: listen.port, registry: registry, engine: engine, daemon: daemon,
                                      console: console, logger: logger, onRunning: { port in
                                          logger.notice(!serving ? "serving /metrics, /healthz and /readyz" : "serving the web console, /metrics, /healthz and /readyz",
                                                        metadata: ["address": "\(listen.host):\(port)"])
                                      })
            // The endpoints are an extra: if they stop, the monitoring goes on.
            services.append(.init(service: server, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        if let alertmanager = engine.alertmanager {
            // Re-sends while firing, as Prometheus does; its loss must not stop the monitoring.
            services.append(.init(service: alertmanager, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await console?.close()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
