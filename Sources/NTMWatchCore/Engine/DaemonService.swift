import CheckKit
import Foundation
import NTMModuleHost
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The long-running daemon: schedules each check on its own interval, never overlapping
/// itself, at most `max_concurrent` at a time; reloads on SIGHUP; stops cleanly on SIGTERM.
public struct DaemonService: Service {
    let configPath: String
    let engine: Engine
    let notifier: ServiceNotifier
    let logger: Logger
    /// How often the loop wakes to start due checks and feed the watchdog.
    let tick: Duration

    public init(configPath: String, engine: Engine, logger: Logger, tick: Duration = .seconds(1)) {
        self.configPath = configPath
        self.engine = engine
        self.notifier = ServiceNotifier()
        self.logger = logger
        self.tick = tick
    }

    enum Event: Sendable {
        case tick
        case finished(ConfiguredCheck, CheckOutcome, Date)
        case reload
        case signalsEnded
    }

    public func run() async throws {
        let stopping = Mutex(false)
        let watchdog = notifier.watchdogInterval
        notifier.ready(status: await engine.statusLine())
        logger.notice("ntmwatchd ready", metadata: ["config": "\(configPath)", "watchdog": "\(watchdog.map { "\($0)" } ?? "off")"])

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Event.self) { group in
                let tick = self.tick
                group.addTask { try? await Task.sleep(for: tick); return .tick }
                group.addTask { await Self.nextHangup() }
                var nextRun: [String: ContinuousClock.Instant] = [:]
                var running = Set<String>()

                while let event = await group.next() {
                    if stopping.withLock({ $0 }) {
                        if case .finished(let check, let outcome, let at) = event {
                            // A result already in hand is still recorded and delivered.
                            try? await engine.process([(check, outcome)], at: at)
                            running.remove(check.name)
                        }
                        group.cancelAll()
                        if running.isEmpty { break } else { continue }
                    }
                    switch event {
                    case .tick:
                        if watchdog != nil { notifier.watchdog() }
                        await launchDue(into: &group, running: &running, nextRun: &nextRun)
                        group.addTask { try? await Task.sleep(for: tick); return .tick }
                    case .finished(let check, let outcome, let at):
                        running.remove(check.name)
                        do {
                            try await engine.process([(check, outcome)], at: at)
                        } catch {
                            logger.error("recording the results of \(check.name) failed: \(error)")
                        }
                        notifier.status(await engine.statusLine())
                    case .reload:
                        await reload()
                        nextRun = nextRun.filter { name, _ in running.contains(name) }
                        group.addTask { await Self.nextHangup() }
                    case .signalsEnded:
                        break
                    }
                }
            }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
            notifier.stopping()
        }
        await engine.close()
        logger.notice("ntmwatchd stopped")
    }

    private func launchDue(into group: inout TaskGroup<Event>, running: inout Set<String>,
                           nextRun: inout [String: ContinuousClock.Instant]) async {
        let now = ContinuousClock.now
        let runtime = await engine.runtime
        for check in runtime.checks where running.count < runtime.configuration.maxConcurrentChecks {
            guard !running.contains(check.name), now >= nextRun[check.name, default: now] else { continue }
            let runner = await engine.runner(for: check.name)
            if runner.isStillRunning {
                logger.warning("check \(check.name) is still running after its timeout; not started again")
                continue
            }
            running.insert(check.name)
            nextRun[check.name] = now + check.interval
            let store = engine.store, logger = self.logger
            group.addTask {
                let instant = Date()
                return .finished(check, await runner.run(check, store: store, at: instant, logger: logger), instant)
            }
        }
    }

    private func reload() async {
        notifier.reloading()
        do {
            let configuration = try ConfigLoader.load(path: configPath)
            try await engine.reload(configuration)
            let checks = await engine.runtime.checks.count
            logger.notice("configuration reloaded", metadata: ["checks": "\(checks)"])
        } catch let error as ConfigError {
            logger.error("reload refused, the running configuration stays: \(error.text(in: .en))")
        } catch {
            logger.error("reload failed, the running configuration stays: \(error)")
        }
        notifier.ready(status: await engine.statusLine())
    }

    static func nextHangup() async -> Event {
        for await _ in await UnixSignalsSequence(trapping: .sighup) { return .reload }
        return .signalsEnded
    }
}
