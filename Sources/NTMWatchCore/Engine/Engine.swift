import CheckKit
import Foundation
import Logging
import NTMStore

/// The daemon's core: runs checks, turns their findings into alerts, and delivers notifications.
/// Each stage is its own type (``CheckRunner``, ``Labeler``, ``AlertTracker``, ``AlertStateStore``,
/// ``Router``/``Grouper``, the sinks); the engine only passes results from one to the next.
public actor Engine {
    public private(set) var runtime: Runtime
    public let store: Store
    private let state: AlertStateStore
    private var tracker: AlertTracker
    private var runners: [String: CheckRunner] = [:]
    private let logger: Logger
    public private(set) var lastCycle: (at: Date, duration: Duration)?

    /// Opens the store (creating and seeding an empty one when the configuration says so), the
    /// alert state, and the modules; delivers what a previous run left in the outbox.
    public static func start(_ configuration: Configuration, logger: Logger) async throws -> Engine {
        let store = Store(location: configuration.store.location, queryTimeout: configuration.store.queryTimeout, logger: logger)
        try await prepare(store, seedFrom: configuration.store.seedFrom, logger: logger)
        let state = try await AlertStateStore.open(directory: configuration.stateDirectory, logger: logger)
        let runtime = Runtime.build(configuration)
        let tracker = AlertTracker(active: try await state.activeAlerts(), repeatInterval: configuration.repeatInterval)
        let engine = Engine(runtime: runtime, store: store, state: state, tracker: tracker, logger: logger)
        await engine.deliverOutbox()
        try await engine.reportProblems(at: Date())
        return engine
    }

    private init(runtime: Runtime, store: Store, state: AlertStateStore, tracker: AlertTracker, logger: Logger) {
        self.runtime = runtime
        self.store = store
        self.state = state
        self.tracker = tracker
        self.logger = logger
    }

    static func prepare(_ store: Store, seedFrom: String?, logger: Logger) async throws {
        let isEmptySQLite: Bool = {
            if case .sqlite(let path) = store.location { return !FileManager.default.fileExists(atPath: path) }
            return false
        }()
        let version = isEmptySQLite ? 0 : try await store.schemaVersion()
        if version == 0, let seedFrom {
            try await store.migrate()
            let reports = try await Importer(store: store).importFolder(seedFrom)
            let rows = reports.reduce(0) { $0 + $1.inserted }
            logger.notice("created the store and filled it from \(seedFrom)", metadata: ["rows": "\(rows)", "store": "\(store.location)"])
        }
        try await store.requireCurrentSchema()
    }

    public func close() async { await state.close() }

    // MARK: Running checks

    func runner(for check: String) -> CheckRunner {
        if let runner = runners[check] { return runner }
        let runner = CheckRunner()
        runners[check] = runner
        return runner
    }

    /// Runs every check once as of `instant`, at most `maxConcurrentChecks` at a time, and
    /// delivers the notifications: `ntmwatchd --once`.
    public func runCycle(at instant: Date) async throws {
        let started = ContinuousClock.now
        let checks = runtime.checks
        let limit = runtime.configuration.maxConcurrentChecks
        var results: [(ConfiguredCheck, CheckOutcome)] = []
        await withTaskGroup(of: (ConfiguredCheck, CheckOutcome).self) { group in
            var next = 0
            func launch() {
                let check = checks[next]
                let runner = runner(for: check.name)
                let store = self.store, logger = self.logger
                group.addTask { (check, await runner.run(check, store: store, at: instant, logger: logger)) }
                next += 1
            }
            while next < checks.count && next < limit { launch() }
            for await result in group {
                results.append(result)
                if next < checks.count { launch() }
            }
        }
        try await process(results.sorted { $0.0.name < $1.0.name }, at: instant)
        lastCycle = (instant, ContinuousClock.now - started)
    }

    /// Evaluates without touching alert state or notifying: `ntmwatch evaluate`.
    public func evaluate(at instant: Date, checkName: String? = nil) async throws -> [(check: String, outcome: CheckOutcome, findings: [LabeledFinding])] {
        let labeler = try await Labeler(store: store, at: instant, instance: runtime.configuration.instance)
        var output: [(String, CheckOutcome, [LabeledFinding])] = []
        for check in runtime.checks where checkName == nil || check.name == checkName || check.module.descriptor.name == checkName {
            let outcome = await CheckRunner().run(check, store: store, at: instant, logger: logger)
            var labeled: [LabeledFinding] = []
            if case .findings(let findings) = outcome { labeled = labeler.label(findings, of: check) }
            output.append((check.name, outcome, labeled))
        }
        return output
    }

    /// Feeds run results through the alert stages: label, track, persist, deliver.
    func process(_ results: [(ConfiguredCheck, CheckOutcome)], at instant: Date) async throws {
        let labeler = try await Labeler(store: store, at: instant, instance: runtime.configuration.instance)
        var step = AlertTracker.Step()
        for (check, outcome) in results {
            var meta: [LabeledFinding] = []
            switch outcome {
            case .findings(let findings):
                step.merge(tracker.apply(scope: check.name, findings: labeler.label(findings, of: check), at: instant))
            case .failed(let reason):
                logger.error("check failed: \(reason)", metadata: ["check": "\(check.name)"])
                meta.append(labeler.meta(MetaRules.moduleFailed, check: check.name, values: ["reason": .text(reason)]))
            case .timedOut:
                logger.error("check timed out", metadata: ["check": "\(check.name)", "timeout": "\(check.timeout)"])
                meta.append(labeler.meta(MetaRules.moduleTimeout, check: check.name,
                                         values: ["timeout": .text(DurationText.format(check.timeout))]))
            }
            step.merge(tracker.apply(scope: "meta:\(check.name)", findings: meta, at: instant))
        }
        try await state.record(step)
        await deliverOutbox()
    }

    /// Raises (and resolves) `ntmwatch.module_failed` for module files and checks that cannot run.
    func reportProblems(at instant: Date) async throws {
        for problem in runtime.problems {
            logger.error("check module problem: \(problem.reason)", metadata: ["subject": "\(problem.subject)"])
        }
        let labeler = Labeler(units: [:], instance: runtime.configuration.instance)
        var step = AlertTracker.Step()
        let files = runtime.problems.filter { $0.line == nil }.map {
            labeler.meta(MetaRules.moduleFailed, check: $0.subject, values: ["reason": .text($0.reason)], subjectKind: "module_file")
        }
        step.merge(tracker.apply(scope: "meta:load", findings: files, at: instant))
        for problem in runtime.problems where problem.line != nil {
            step.merge(tracker.apply(scope: "meta:\(problem.subject)", findings: [
                labeler.meta(MetaRules.moduleFailed, check: problem.subject, values: ["reason": .text(problem.reason)]),
            ], at: instant))
        }
        var scopes: Set<String> = ["meta:load"]
        // Configured checks, whether they loaded or not, and manifest modules running on their own.
        for name in runtime.configuration.checks.map(\.name) + runtime.checks.map(\.name) { scopes.formUnion([name, "meta:\(name)"]) }
        step.merge(tracker.retire(keeping: scopes, at: instant))
        try await state.record(step)
        await deliverOutbox()
    }

    // MARK: Reload and delivery

    /// Replaces configuration and modules. Alerts of checks that remain keep their state;
    /// alerts of removed checks resolve.
    public func reload(_ configuration: Configuration) async throws {
        runtime = Runtime.build(configuration)
        tracker.repeatInterval = configuration.repeatInterval
        try await reportProblems(at: Date())
    }

    /// Sends what the outbox holds. What a sink could not take stays for the next cycle.
    func deliverOutbox() async {
        let configuration = runtime.configuration
        do {
            let pending = try await state.pendingNotifications()
            guard !pending.isEmpty else { return }
            if configuration.journald {
                let journal = JournaldSink(instance: configuration.instance, language: configuration.language)
                if Journal.isAvailable {
                    for notification in pending { try journal.deliver(notification) }
                } else {
                    for notification in pending {
                        FileHandle.standardError.write(Data((journal.fields(for: notification).first { $0.0 == "MESSAGE" }!.1 + "\n").utf8))
                    }
                }
            }
            let sinks = Dictionary(uniqueKeysWithValues: configuration.receivers.filter { $0.directory != nil }.map {
                ($0.name, WebhookFileSink(receiver: $0, language: configuration.language, externalURL: configuration.externalURL, logger: logger))
            })
            for group in Grouper.group(pending, router: Router(root: configuration.route)) {
                try sinks[group.receiver]?.deliver(group)
            }
            try await state.markDelivered(pending.map(\.id))
        } catch {
            logger.error("delivering notifications failed; they stay in the outbox for the next cycle: \(error)")
        }
    }

    // MARK: Reporting

    public func activeAlerts() -> [Alert] { tracker.active.values.sorted { $0.fingerprint < $1.fingerprint } }

    /// One line for systemd's STATUS=.
    public func statusLine() -> String {
        let firing = tracker.active.values.filter { $0.status == .firing }
        let counts = Severity.allCases.reversed().compactMap { severity -> String? in
            let n = firing.filter { $0.severity == severity }.count
            return n == 0 ? nil : "\(n) \(severity.rawValue)"
        }
        var line = "\(runtime.checks.count) checks; firing: " + (counts.isEmpty ? "none" : counts.joined(separator: ", "))
        if let lastCycle { line += "; last cycle \(lastCycle.duration.formatted(.units(allowed: [.milliseconds])))" }
        if !runtime.problems.isEmpty { line += "; \(runtime.problems.count) module problems" }
        return line
    }
}
