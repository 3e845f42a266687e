import CheckKit
import CSystemd
import Foundation
import NTMAlerting
import NTMDelivery
import NTMModuleHost
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The long-running daemon: schedules each check on its own interval, never overlapping
/// itself, at most `max_concurrent` at a time; reloads on SIGHUP; stops cleanly on SIGTERM.
public final class DaemonService: Service {
    let configPath: String
    let engine: Engine
    let notifier: ServiceNotifier
    let logger: Logger
    /// How often the loop wakes to start due checks, flush the ledger and feed the watchdog.
    let tick: Duration
    /// Runs started more than two ticks after they were due (the queue was full).
    public let lateRuns = Atomic<Int>(0)
    /// When the loop last woke (seconds since 1970), for `/healthz`.
    public let lastTick = Atomic<Int>(0)

    public init(configPath: String, engine: Engine, logger: Logger, tick: Duration = .seconds(1)) {
        self.configPath = configPath
        self.engine = engine
        self.notifier = ServiceNotifier()
        self.logger = logger
        self.tick = tick
    }

    enum Event: Sendable {
        case tick
        case finished(ConfiguredCheck, CheckOutcome, Date, Duration)
        case reload
        /// A flush ended, having sent this many notifications.
        case flushed(Int)
        case signalsEnded
    }

    public func run() async throws {
        let stopping = Mutex(false)
        let watchdog = notifier.watchdogInterval
        notifier.ready(status: await engine.statusLine())
        logger.notice("ntmwatchd ready", metadata: ["config": "\(configPath)", "watchdog": "\(watchdog.map { "\($0)" } ?? "off")"])
        // The open alerts load after READY=1; a state that cannot be read still stops the daemon
        // here. Loading a national state takes a while: the watchdog is fed meanwhile, or systemd
        // would kill a daemon that is only reading.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [engine] in try await engine.settle() }
            if watchdog != nil {
                group.addTask { [notifier, tick] in
                    while !Task.isCancelled {
                        notifier.watchdog()
                        try await Task.sleep(for: tick)
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
        notifier.status(await engine.statusLine())

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Event.self) { group in
                let tick = self.tick
                group.addTask { try? await Task.sleep(for: tick); return .tick }
                group.addTask { await Self.nextHangup() }
                var nextRun: [String: ContinuousClock.Instant] = [:]
                var running = Set<String>()
                var flushing = false
                var lastHeartbeat = ContinuousClock.now - .seconds(3600)
                var trims = TrimPacing()
                // Start-up's mappings, settled: the first that can be unmapped (see ``CodePages``).
                var codePages = CodePages()
                codePages.release()

                while let event = await group.next() {
                    if stopping.withLock({ $0 }) {
                        if case .finished(let check, let outcome, let at, _) = event {
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
                        lastTick.store(Int(Date().timeIntervalSince1970), ordering: .relaxed)
                        var heartbeat = false
                        if ContinuousClock.now - lastHeartbeat >= .seconds(60) {
                            lastHeartbeat = ContinuousClock.now
                            await engine.heartbeat()
                            heartbeat = true
                        }
                        // Deliveries free their notifications after the runs that made them: each
                        // idle minute, and what a flush freed or a run mapped in once the pacing allows.
                        if running.isEmpty && !flushing && (heartbeat || trims.isDue(at: .now)) {
                            await returnFreedMemory(pacing: &trims, codePages: &codePages)
                        }
                        await launchDue(into: &group, running: &running, nextRun: &nextRun)
                        // Group timers and retries are due by the clock, not by check results. The
                        // flush runs beside the loop, so a hanging receiver never starves the watchdog.
                        if !flushing {
                            flushing = true
                            group.addTask { [engine] in
                                let sent = await engine.flushDeliveries()
                                await engine.sendDueDigests(at: Date())
                                return .flushed(sent)
                            }
                        }
                        group.addTask { try? await Task.sleep(for: tick); return .tick }
                    case .finished(let check, let outcome, let at, let duration):
                        running.remove(check.name)
                        trims.ran()
                        do {
                            try await engine.process([(check, outcome)], at: at, durations: [check.name: duration])
                        } catch {
                            logger.error("recording the results of \(check.name) failed: \(error)")
                        }
                        notifier.status(await engine.statusLine())
                        // Not beside a flush: it reads and frees every pending notification,
                        // and a copy made among those would be as scattered as the original.
                        if running.isEmpty && !flushing {
                            await engine.compactAlerts(releasing: Self.trim)
                            await returnFreedMemory(pacing: &trims, codePages: &codePages)
                        }
                    case .reload:
                        await reload()
                        nextRun = nextRun.filter { name, _ in running.contains(name) }
                        group.addTask { await Self.nextHangup() }
                    case .flushed(let sent):
                        flushing = false
                        // What deliveries freed (70,000 notifications after a first national
                        // cycle, the last of them sent after the last run ended) goes back now,
                        // or at the first idle tick once the pacing allows, not at the next heartbeat.
                        if sent > 0 { trims.freed() }
                        guard running.isEmpty else { break }
                        if await engine.compactAlerts(releasing: Self.trim) || trims.isDue(at: .now) {
                            await returnFreedMemory(pacing: &trims, codePages: &codePages)
                        }
                    case .signalsEnded:
                        break
                    }
                }
            }
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
            self.notifier.stopping()
        }
        // What is recorded goes out now rather than at the next start (bounded by each
        // receiver's own timeout); what cannot go stays in the ledger.
        await engine.flushDeliveries(force: true)
        await engine.close()
        logger.notice("ntmwatchd stopped")
    }

    /// Gives the memory of the last runs back to the system. A national cycle reads a million
    /// rows; glibc keeps what was freed in its arenas, so a daemon idle between hourly runs held
    /// the peak of its last run (about a gigabyte nationally) until the next. Called only when no
    /// check runs and no flush is under way; the code pages that a run or a delivery brought in
    /// are unmapped too (``CodePages``), once each time.
    func returnFreedMemory(pacing: inout TrimPacing, codePages: inout CodePages) async {
        await engine.state.releaseMemory()
        Self.trim()
        if pacing.codeRan { codePages.release() }
        pacing.trimmed(at: .now)
    }

    /// Gives glibc's free pages back and joins its free chunks.
    @Sendable static func trim() { _ = malloc_trim(0) }

    /// When memory that deliveries freed is given back: at most every ten seconds, since a trim
    /// walks the arenas under their locks, but never left for the minute's heartbeat. A flush
    /// that ended within ten seconds of a trim used to skip its own, and a national first cycle's
    /// last deliveries then held 50 MiB more (165 against 116) until the heartbeat (issue 21).
    struct TrimPacing {
        static let interval: Duration = .seconds(10)
        private var last: ContinuousClock.Instant?
        private(set) var owed = false
        /// Whether a run or a delivery ran code since the last trim (start-up's goes with the
        /// first run's). The loop's own code, every second, is then mapped back once, not at
        /// each idle minute; and not just before the first checks start.
        private(set) var codeRan = false

        /// Deliveries freed something worth giving back.
        mutating func freed() { (owed, codeRan) = (true, true) }

        /// A check's run ended.
        mutating func ran() { codeRan = true }

        /// Owed (freed memory, or code that ran), and the last trim long enough ago. A run's end
        /// mostly finds a flush under way, and its code was then held until the next heartbeat.
        func isDue(at now: ContinuousClock.Instant) -> Bool {
            (owed || codeRan) && last.map { now - $0 >= Self.interval } ?? true
        }

        mutating func trimmed(at now: ContinuousClock.Instant) {
            last = now
            owed = false
            codeRan = false
        }
    }

    /// glibc's allocator, set for a daemon that runs large cycles and then idles between them.
    /// Called before any thread starts; `MALLOC_ARENA_MAX`, `MALLOC_TRIM_THRESHOLD_` and
    /// `MALLOC_MMAP_THRESHOLD_` in the environment still decide when set.
    /// - Two arenas, not glibc's default of eight per core. Checks run on several threads, and each
    ///   thread's arena kept the long-lived alerts it made scattered among the pages a run freed,
    ///   which trimming cannot give back: a daemon a minute after its first national cycle held
    ///   249 MiB with the default, 167 MiB with two (the cycle took as long).
    /// - Fixed thresholds, not glibc's sliding ones. glibc raises its trim threshold to twice the
    ///   largest block it has unmapped (up to 64 MiB), and `malloc_trim` shortens the top of the
    ///   main arena only, never a thread's: after the large first cycle, daemons kept up to 65 MiB
    ///   of free memory resident at the top of their second arena (issue 21). With the threshold
    ///   at 4 MiB, a top beyond it goes back when a block is freed into it. Blocks under 32 MiB,
    ///   the sliding threshold's own ceiling, still come from the arenas, as they would once glibc
    ///   had slid there.
    public static func tuneMalloc() {
        let environment = ProcessInfo.processInfo.environment
        if environment["MALLOC_ARENA_MAX"] == nil { _ = mallopt(M_ARENA_MAX, 2) }
        if environment["MALLOC_TRIM_THRESHOLD_"] == nil && environment["MALLOC_MMAP_THRESHOLD_"] == nil {
            _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
            _ = mallopt(M_TRIM_THRESHOLD, 4 << 20)
        }
    }

    /// Starts due checks, longest-waiting first, while fewer than `max_concurrent` run: with a
    /// short interval a check cannot starve the others, since a check that just ran is due later
    /// than one still waiting. A start more than a tick after its due time is late: logged and counted.
    private func launchDue(into group: inout TaskGroup<Event>, running: inout Set<String>,
                           nextRun: inout [String: ContinuousClock.Instant]) async {
        let now = ContinuousClock.now
        let runtime = await engine.runtime
        // A check that never ran has waited longest of all.
        let never = now - .seconds(1_000_000_000)
        let due = runtime.checks
            .filter { !running.contains($0.name) && now >= nextRun[$0.name, default: now] }
            .sorted { (nextRun[$0.name, default: never], $0.name) < (nextRun[$1.name, default: never], $1.name) }
        for check in due where running.count < runtime.configuration.maxConcurrentChecks {
            let runner = await engine.runner(for: check.name)
            if runner.isStillRunning {
                logger.warning("check \(check.name) is still running after its timeout; not started again")
                continue
            }
            if let scheduled = nextRun[check.name], now - scheduled > tick * 2 {
                lateRuns.add(1, ordering: .relaxed)
                engine.metrics.lateRun(check.name)
                logger.warning("check \(check.name) starts late", metadata: [
                    "check": "\(check.name)", "late_by": "\((now - scheduled).formatted(.units(allowed: [.seconds, .milliseconds])))",
                    "max_concurrent": "\(runtime.configuration.maxConcurrentChecks)",
                ])
            }
            running.insert(check.name)
            nextRun[check.name] = now + check.interval
            let store = engine.store, logger = self.logger, model = engine.sharedReads
            group.addTask {
                let instant = Date(), started = ContinuousClock.now
                let outcome = await runner.run(check, store: store, at: instant, sharing: model, logger: logger)
                return .finished(check, outcome, instant, ContinuousClock.now - started)
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
