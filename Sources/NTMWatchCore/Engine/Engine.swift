import CheckKit
import AsyncHTTPClient
import Foundation
import NTMModuleHost
import Logging
import NTMAlerting
import NTMDelivery
import NTMSQLite
import NTMStore

/// The daemon's core: runs checks, turns their findings into alerts, records them with their
/// notifications in the ledger, and has the dispatcher deliver them. Each stage is its own type
/// (``CheckRunner``, ``Labeler``, ``AlertTracker``, ``AlertStateStore``, ``Router``,
/// ``Dispatcher`` and its notifiers); the engine only passes results from one to the next.
public actor Engine {
    public private(set) var runtime: Runtime
    public let store: Store
    /// What checks running at the same time on their own schedules read, read once while the
    /// data does not change (see ``ReadModel``). A `--once` cycle shares its own model instead.
    let sharedReads: ReadModel
    public let state: AlertStateStore
    /// Empty until ``settle()`` has loaded the open alerts.
    private var tracker: AlertTracker
    /// What the tracker asks for alerts it needs whole (it keeps only their lifecycle).
    private let stored: StoredAlerts
    /// The open alerts being decoded: a national state holds tens of thousands, and decoding them
    /// before READY=1 kept systemd (and a reload's caller) waiting seconds for nothing that needs
    /// them. nil once settled.
    private var loadingTracker: Task<AlertTracker, any Error>?
    private var router: Router
    private let dispatcher: Dispatcher
    /// One client for every HTTP receiver, made with the first one (an engine without HTTP
    /// receivers has nothing to shut down) and shut down in `close()`.
    private var http: HTTPClient?
    private var runners: [String: CheckRunner] = [:]
    /// Alerts recorded as changed since the tracker was last compacted (``compactAlerts(releasing:)``).
    private var changedSinceCompaction = 0
    let logger: Logger
    public let metrics: DaemonMetrics
    public private(set) var lastCycle: (at: Date, duration: Duration)?
    /// Checks whose results have been recorded at least once since start (for `/readyz`): ready
    /// once a check's alerts are in the state, not as soon as its run ended (a national first
    /// cycle records for seconds after its last check). A check whose results could not be
    /// recorded keeps the daemon not ready until they are.
    public private(set) var checksRun = Set<String>()

    /// Opens the store (creating and seeding an empty one when the configuration says so), the
    /// alert state and ledger, and the modules. Nothing is delivered yet: the daemon's loop and
    /// `runCycle` flush the ledger.
    public static func start(_ configuration: Configuration, logger: Logger, metrics: DaemonMetrics = DaemonMetrics()) async throws -> Engine {
        let store = Store(location: configuration.store.location, queryTimeout: configuration.store.queryTimeout, logger: logger)
        try await prepare(store, seedFrom: configuration.store.seedFrom, logger: logger)
        let state = try await AlertStateStore.open(directory: configuration.stateDirectory)
        let notApplied = SQLite3Connection.settingsNotApplied
        if !notApplied.isEmpty {
            logger.warning("SQLite was started in this process before ntmwatch could set: \(notApplied.joined(separator: ", ")); the daemon works, more slowly")
        }
        let runtime = Runtime.build(configuration)
        // On a connection and queue of its own: the state's own queue stays free for what comes
        // before READY=1 (a national state takes half a second to read).
        let loading = Task {
            guard let reader = try await AlertStateStore.openReadOnly(directory: configuration.stateDirectory) else {
                return AlertTracker(repeatInterval: configuration.repeatInterval)
            }
            return try await reader.closing { AlertTracker(active: try await $0.trackedAlerts(), repeatInterval: configuration.repeatInterval) }
        }
        let stored = try state.storedAlerts()
        let http = Self.needsHTTP(configuration) ? HTTPWebhookNotifier.makeClient() : nil
        let dispatcher = Dispatcher(state: state, notifiers: Self.notifiers(configuration, http: http, logger: logger),
                                    settings: configuration.delivery, logger: logger)
        let engine = Engine(runtime: runtime, store: store, state: state, stored: stored, loadingTracker: loading, dispatcher: dispatcher, http: http,
                            logger: logger, metrics: metrics)
        try await engine.adoptLegacyOutbox()
        await dispatcher.update(notifiers: Self.notifiers(configuration, http: http, logger: logger), settings: configuration.delivery)
        return engine
    }

    /// Finishes what ``start(_:logger:metrics:)`` leaves for after READY=1: takes the open alerts
    /// loaded meanwhile, raises the module problems and tells Alertmanager what still fires.
    /// Everything that needs the alerts calls it first; the daemon calls it right after READY=1,
    /// so a state that cannot be read still stops it at start.
    public func settle() async throws {
        guard let loading = loadingTracker else { return }
        let loaded = try await loading.value
        // Another caller may have settled while this one waited.
        guard loadingTracker != nil else { return }
        loadingTracker = nil
        tracker = loaded
        tracker.repeatInterval = runtime.configuration.repeatInterval
        try await reportProblems(at: Date())
        await pushAlertsAtStart()
    }

    /// What fired before a restart is Alertmanager's to know at once, not at the next change.
    private func pushAlertsAtStart() async {
        guard let alertmanager else { return }
        do {
            await alertmanager.update(active: try await state.activeAlerts(), resolved: [], at: Date())
        } catch {
            logger.error("could not read the open alerts for Alertmanager: \(error)")
        }
    }

    private init(runtime: Runtime, store: Store, state: AlertStateStore, stored: StoredAlerts, loadingTracker: Task<AlertTracker, any Error>,
                 dispatcher: Dispatcher, http: HTTPClient?, logger: Logger, metrics: DaemonMetrics) {
        self.http = http
        self.metrics = metrics
        self.alertmanager = http.flatMap { client in
            runtime.configuration.alertmanagers.isEmpty ? nil : AlertmanagerSync(
                endpoints: runtime.configuration.alertmanagers, client: client, language: runtime.configuration.language,
                externalURL: runtime.configuration.externalURL, logger: logger)
        }
        self.runtime = runtime
        self.store = store
        self.sharedReads = ReadModel.watching(store)
        self.state = state
        self.stored = stored
        self.tracker = AlertTracker(active: [], repeatInterval: runtime.configuration.repeatInterval)
        self.loadingTracker = loadingTracker
        self.router = Router(root: runtime.configuration.route)
        self.dispatcher = dispatcher
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

    static func needsHTTP(_ configuration: Configuration) -> Bool {
        !configuration.alertmanagers.isEmpty || configuration.receivers.contains { if case .http = $0.integration { true } else { false } }
    }

    static func notifiers(_ configuration: Configuration, http: HTTPClient?, logger: Logger) -> [any Notifier] {
        var notifiers: [any Notifier] = []
        if configuration.journald {
            notifiers.append(JournaldSink(instance: configuration.instance, language: configuration.language))
        }
        for receiver in configuration.receivers {
            switch receiver.integration {
            case .files(let spool):
                notifiers.append(WebhookFileSink(receiver: receiver.name, spool: spool, language: configuration.language,
                                                 externalURL: configuration.externalURL, logger: logger))
            case .http(let endpoint):
                guard let http else { preconditionFailure("an HTTP receiver without the engine's HTTP client") }
                notifiers.append(HTTPWebhookNotifier(receiver: receiver.name, endpoint: endpoint, language: configuration.language,
                                                     externalURL: configuration.externalURL, client: http, logger: logger))
            case .email(let settings):
                notifiers.append(EmailNotifier(receiver: receiver.name, settings: settings, language: configuration.language,
                                               instance: configuration.instance))
            }
        }
        return notifiers
    }

    public func close() async {
        // The load reads the state: let it end before the state closes under it.
        _ = await loadingTracker?.result
        await state.close()
        try? await http?.shutdown()
    }

    // MARK: Running checks

    func runner(for check: String) -> CheckRunner {
        if let runner = runners[check] { return runner }
        let runner = CheckRunner()
        runners[check] = runner
        return runner
    }

    /// Runs every check once as of `instant`, at most `maxConcurrentChecks` at a time, records
    /// the results and delivers everything at once, group timers aside: `ntmwatchd --once`.
    /// The tracker holds the checks' changes until the cycle records them, so nothing else may
    /// call the engine meanwhile (a reload retiring a check would record it before the cycle
    /// does): `--once` and the benchmark call nothing else, and the daemon runs its checks
    /// through ``process(_:at:durations:sharing:)``.
    public func runCycle(at instant: Date) async throws {
        let started = ContinuousClock.now
        let checks = runtime.checks
        let limit = runtime.configuration.maxConcurrentChecks
        let model = ReadModel.perCycle()
        // Each check's findings go through the alert stages as soon as every check before it
        // in name order has (the order `process` takes them in, so the step is the same), while
        // the rest still run: waiting for the last check left a core idle through most of a
        // national cycle's labelling and tracking, and kept every check's findings alive to the
        // end (issue 21).
        let order = checks.indices.sorted { checks[$0].name < checks[$1].name }
        var processing: Processing?
        var recorded: [String] = []
        try await withThrowingTaskGroup(of: (Int, CheckOutcome).self) { group in
            var next = 0
            func launch() {
                let index = next, check = checks[next]
                let runner = runner(for: check.name)
                let store = self.store, logger = self.logger
                group.addTask { (index, await runner.run(check, store: store, at: instant, sharing: model, logger: logger)) }
                next += 1
            }
            while next < checks.count && next < limit { launch() }
            var finished: [Int: CheckOutcome] = [:]
            var received = 0, processed = 0
            for try await (index, outcome) in group {
                if next < checks.count { launch() }
                finished[index] = outcome
                received += 1
                if processing == nil { processing = try await beginProcessing(at: instant, sharing: model) }
                // The cycle's reads end with its last check; the labeller has the units.
                if received == checks.count { model.clear() }
                while processed < order.count, let outcome = finished.removeValue(forKey: order[processed]) {
                    if !outcome.isCancelled { recorded.append(checks[order[processed]].name) }
                    try await process(checks[order[processed]], outcome, duration: nil, at: instant, into: &processing!)
                    processed += 1
                }
            }
        }
        if processing == nil { processing = try await beginProcessing(at: instant, sharing: model) }
        let done = processing!
        processing = nil
        try await endProcessing(consume done, at: instant)
        checksRun.formUnion(recorded)
        await flushDeliveries(force: true)
        await sendDueDigests(at: instant)
        lastCycle = (instant, ContinuousClock.now - started)
    }

    /// Evaluates without touching alert state or notifying (tests; `ntmwatch evaluate` uses
    /// ``Evaluator`` alone).
    public func evaluate(at instant: Date, checkName: String? = nil) async throws -> [(check: String, outcome: CheckOutcome, findings: [LabeledFinding])] {
        try await Evaluator(runtime: runtime, store: store, logger: logger).evaluate(at: instant, checkName: checkName)
            .map { ($0.check, $0.outcome, $0.findings) }
    }

    /// Feeds run results through the alert stages: label, track, and record with their ledger
    /// rows. Delivery follows from the ledger (``flushDeliveries(force:)``).
    func process(_ results: [(ConfiguredCheck, CheckOutcome)], at instant: Date, durations: [String: Duration] = [:],
                 sharing model: ReadModel? = nil) async throws {
        var processing = try await beginProcessing(at: instant, sharing: model)
        // A cycle's own reads end with its checks; the daemon's shared ones end with their readers.
        model?.clear()
        for (check, outcome) in results {
            try await process(check, outcome, duration: durations[check.name], at: instant, into: &processing)
        }
        try await endProcessing(consume processing, at: instant)
        checksRun.formUnion(results.filter { !$0.1.isCancelled }.map(\.0.name))
    }

    /// The alert stages of one evaluation under way: its labeller, the silences and inhibitions
    /// read before the tracker changes, and the step its checks' findings add to.
    struct Processing {
        let labeler: Labeler
        let muting: Muting
        var step = AlertTracker.Step()
        var scopes = Set<String>()
    }

    private func beginProcessing(at instant: Date, sharing model: ReadModel?) async throws -> Processing {
        try await settle()
        let labeler = try await Labeler(store: store, at: instant, instance: runtime.configuration.instance, sharing: model ?? sharedReads)
        return Processing(labeler: labeler, muting: try await currentMuting())
    }

    /// Labels and tracks one check's outcome.
    private func process(_ check: ConfiguredCheck, _ outcome: CheckOutcome, duration: Duration?, at instant: Date,
                         into processing: inout Processing) async throws {
        processing.scopes.formUnion([check.name, "meta:\(check.name)"])
        await recordRun(check.name, outcome: outcome, duration: duration, at: instant)
        let labeler = processing.labeler
        var meta: [LabeledFinding] = []
        switch outcome {
        case .findings(let findings):
            let labelled = await labeler.labelling(findings, of: check)
            processing.step.merge(try tracker.apply(scope: check.name, findings: labelled, at: instant, stored: stored.alert))
        case .failed(let reason):
            logger.error("check failed: \(reason)", metadata: ["check": "\(check.name)"])
            meta.append(labeler.meta(MetaRules.moduleFailed, check: check.name, values: ["reason": .text(reason)]))
        case .timedOut:
            logger.error("check timed out", metadata: ["check": "\(check.name)", "timeout": "\(check.timeout)"])
            meta.append(labeler.meta(MetaRules.moduleTimeout, check: check.name,
                                     values: ["timeout": .text(DurationText.format(check.timeout))]))
        case .cancelled:
            // The daemon is stopping: nothing was learnt about the check, so its alerts stay as they are.
            return
        }
        processing.step.merge(try tracker.apply(scope: "meta:\(check.name)", findings: meta, at: instant, stored: stored.alert))
    }

    /// Mutes and records the step with its ledger rows. It takes the step: muting changes it in
    /// place, and a step still held by the caller was copied whole first (70,000 alerts in a
    /// national first cycle, issue 21).
    private func endProcessing(_ processing: consuming Processing, at instant: Date) async throws {
        let muting = processing.muting, scopes = processing.scopes
        try await record((consume processing).step, muting: muting, scopes: scopes, at: instant)
        metrics.alerts(tracker.active.values)
    }

    private func recordRun(_ check: String, outcome: CheckOutcome, duration: Duration?, at instant: Date) async {
        metrics.checkRun(check, outcome: outcome, duration: duration, at: instant)
        let (result, reason, findings): (String, String?, Int?) = switch outcome {
        case .findings(let found): ("ok", nil, found.count)
        case .failed(let why): ("failed", why, nil)
        case .timedOut: ("timed_out", nil, nil)
        case .cancelled: ("cancelled", nil, nil)
        }
        guard result != "cancelled" else { return }
        do {
            try await state.recordRun(check: check, at: instant, duration: duration?.seconds, outcome: result, reason: reason, findings: findings)
        } catch {
            logger.error("could not record the run of \(check): \(error)")
        }
    }

    /// Tells `ntmwatch status` that the daemon's loop is alive.
    public func heartbeat() async {
        do {
            try await state.heartbeat(at: Date(), pid: getpid())
        } catch {
            logger.error("could not write the heartbeat: \(error)")
        }
    }

    /// True once every configured check has run and its results are recorded, at least once since start.
    public var allChecksHaveRun: Bool { runtime.checks.allSatisfy { checksRun.contains($0.name) } }

    /// Silences are read from the state file each time, so `ntmwatch silence` takes effect
    /// without a reload. Read before the tracker changes, so no other call interleaves between
    /// a step and its muting.
    private func currentMuting() async throws -> Muting {
        Muting(silences: try await state.silences(), inhibitRules: runtime.configuration.inhibitRules)
    }

    private func record(_ step: consuming AlertTracker.Step, muting: Muting, scopes: Set<String>, at instant: Date) async throws {
        try tracker.mute(&step, scopes: scopes, with: muting, at: instant, stored: stored.alert)
        let router = self.router, journald = runtime.configuration.journald
        try await state.record(step) { Self.destinations(of: $0, router: router, journald: journald) }
        changedSinceCompaction += step.changed.count
        // The ledger's depth as recorded, not only as the next flush leaves it: a flush that
        // read the ledger before these rows would otherwise show it empty until the one after.
        if !step.notifications.isEmpty, let depth = try? await state.ledgerDepth() {
            metrics.ledger(pending: depth.pending, deadLetters: depth.dead)
        }
        // Alertmanager hears the state, not the notifications: every change, after it is recorded.
        if let alertmanager, !step.changed.isEmpty {
            await alertmanager.update(active: try await state.activeAlerts(), resolved: step.changed.filter { $0.status == .resolved },
                                      at: Date())
        }
    }

    /// Copies the open alerts' lifecycles into fresh memory after runs that changed many of them
    /// (see ``AlertTracker/compact(between:)``), calling `release` while none is allocated: the
    /// daemon calls it when no check runs, and gives freed memory back in `release` and again
    /// after. At least 10,000 changed alerts and a quarter of the open ones: a copy of 70,000
    /// takes a few tens of milliseconds; a province gets one only after many runs, and its copy is
    /// then a millisecond.
    @discardableResult
    public func compactAlerts(releasing release: @Sendable () -> Void = {}) -> Bool {
        guard changedSinceCompaction >= 10_000, changedSinceCompaction * 4 >= tracker.active.count else { return false }
        changedSinceCompaction = 0
        tracker.compact(between: release)
        return true
    }

    /// Pushes alerts to the configured Alertmanagers and re-sends them (run it as a service beside
    /// the daemon); nil without `alertmanagers:`.
    public nonisolated let alertmanager: AlertmanagerSync?

    static func destinations(of notification: Notification, router: Router, journald: Bool) -> [Destination] {
        var destinations = router.destinations(of: notification)
        if journald { destinations.append(Destination(receiver: journaldReceiver, groupKey: "{}:{}", groupLabels: [:])) }
        return destinations
    }

    private func adoptLegacyOutbox() async throws {
        let router = self.router, journald = runtime.configuration.journald
        let adopted = try await state.adoptLegacyOutbox { Self.destinations(of: $0, router: router, journald: journald) }
        if adopted > 0 { logger.notice("moved \(adopted) undelivered notifications of an older version into the delivery ledger") }
    }

    /// Delivers what is due; then raises or resolves `ntmwatch.delivery_failed` per receiver.
    /// Returns how many notifications were delivered.
    @discardableResult
    public func flushDeliveries(force: Bool = false) async -> Int {
        do {
            try await settle()
        } catch {
            logger.error("could not read the alert state: \(error)")
        }
        let report = await dispatcher.flush(now: Date(), force: force)
        for (receiver, results) in report.byReceiver {
            for (result, count) in results { metrics.notifications(receiver: receiver, result: result, count: count) }
        }
        if let depth = try? await state.ledgerDepth() { metrics.ledger(pending: depth.pending, deadLetters: depth.dead) }
        await pruneHistory()
        var sent = report.sent
        guard report.dead > 0 || report.sent > 0 || failingReceivers > 0 else { return sent }
        do {
            let failing = try await state.failingReceivers()
            let muting = try await currentMuting()
            failingReceivers = failing.count
            let labeler = Labeler(units: [:], instance: runtime.configuration.instance)
            let findings = failing.map {
                labeler.meta(MetaRules.deliveryFailed, check: $0.receiver, values: [
                    "dead_letters": .integer(Int64($0.deadLetters)), "reason": .text($0.lastError),
                ], subjectKind: "receiver")
            }
            let now = Date()
            let step = try tracker.apply(scope: "meta:delivery", findings: findings, at: now, stored: stored.alert)
            try await record(step, muting: muting, scopes: ["meta:delivery"], at: now)
            if force && !step.notifications.isEmpty { sent += await dispatcher.flush(now: Date(), force: true).sent }
        } catch {
            logger.error("could not update the delivery_failed alerts: \(error)")
        }
        return sent
    }
    private var failingReceivers = 0

    /// Drops history past its retention, at most once an hour.
    private func pruneHistory() async {
        let now = Date()
        guard lastPrune.map({ now.timeIntervalSince($0) >= 3600 }) ?? true else { return }
        lastPrune = now
        do {
            try await state.prune(keeping: runtime.configuration.delivery.historyRetention, now: now)
        } catch {
            logger.error("pruning the alert history failed: \(error)")
        }
    }
    private var lastPrune: Date?

    /// Raises (and resolves) `ntmwatch.module_failed` for module files and checks that cannot run.
    func reportProblems(at instant: Date) async throws {
        try await settle()
        metrics.moduleProblems(runtime.problems.count)
        for problem in runtime.problems {
            logger.error("check module problem: \(problem.reason)", metadata: ["subject": "\(problem.subject)"])
        }
        let labeler = Labeler(units: [:], instance: runtime.configuration.instance)
        let muting = try await currentMuting()
        var step = AlertTracker.Step()
        let files = runtime.problems.filter { $0.line == nil }.map {
            labeler.meta(MetaRules.moduleFailed, check: $0.subject, values: ["reason": .text($0.reason)], subjectKind: "module_file")
        }
        step.merge(try tracker.apply(scope: "meta:load", findings: files, at: instant, stored: stored.alert))
        for problem in runtime.problems where problem.line != nil {
            step.merge(try tracker.apply(scope: "meta:\(problem.subject)", findings: [
                labeler.meta(MetaRules.moduleFailed, check: problem.subject, values: ["reason": .text(problem.reason)]),
            ], at: instant, stored: stored.alert))
        }
        var scopes: Set<String> = ["meta:load", "meta:delivery"]
        // Configured checks, whether they loaded or not, and manifest modules running on their own.
        for name in runtime.configuration.checks.map(\.name) + runtime.checks.map(\.name) { scopes.formUnion([name, "meta:\(name)"]) }
        step.merge(try tracker.retire(keeping: scopes, at: instant, stored: stored.alert))
        try await record(step, muting: muting, scopes: Set(["meta:load"] + runtime.problems.map { "meta:\($0.subject)" }), at: instant)
    }

    // MARK: Reload

    /// Replaces configuration and modules. Alerts of checks that remain keep their state;
    /// alerts of removed checks resolve. Notifications already recorded keep their receivers.
    public func reload(_ configuration: Configuration) async throws {
        try await settle()
        runtime = Runtime.build(configuration)
        router = Router(root: configuration.route)
        tracker.repeatInterval = configuration.repeatInterval
        if http == nil, Self.needsHTTP(configuration) { http = HTTPWebhookNotifier.makeClient() }
        await dispatcher.update(notifiers: Self.notifiers(configuration, http: http, logger: logger), settings: configuration.delivery)
        try await reportProblems(at: Date())
    }

    // MARK: Reporting

    public func activeAlerts() async throws -> [Alert] {
        try await settle()
        return try await state.activeAlerts()
    }

    /// One line for systemd's STATUS=.
    public func statusLine() -> String {
        guard loadingTracker == nil else { return "\(runtime.checks.count) checks; reading the alert state" }
        var counts: [Severity: Int] = [:]
        for alert in tracker.active.values where alert.status == .firing { counts[alert.severity, default: 0] += 1 }
        let parts = Severity.allCases.reversed().compactMap { severity in counts[severity].map { "\($0) \(severity.rawValue)" } }
        var line = "\(runtime.checks.count) checks; firing: " + (parts.isEmpty ? "none" : parts.joined(separator: ", "))
        if let lastCycle { line += "; last cycle \(lastCycle.duration.formatted(.units(allowed: [.milliseconds])))" }
        if !runtime.problems.isEmpty { line += "; \(runtime.problems.count) module problems" }
        return line
    }
}
