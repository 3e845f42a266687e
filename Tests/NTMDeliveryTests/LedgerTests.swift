import CheckKit
import Foundation
import Logging
import NTMAlerting
import NTMAlertingTestSupport
import NTMSQLite
import Synchronization
import Testing
@testable import NTMDelivery

/// The delivery ledger and the dispatcher, with fake notifiers (the real journald, files, HTTP
/// and Alertmanager are exercised in the integration suites).
@Suite struct LedgerTests {
    static let rule = Rule(id: "demo.late", title: LocalizedText(vi: "Trễ hạn", en: "Late"), defaultSeverity: .warning,
                           messageID: "11111111111111111111111111111111",
                           template: LocalizedText(vi: "{subject} trễ hạn", en: "{subject} is late"))
    let t0 = Date()

    /// Counts what it accepted, by notification id; fails while `failing` is set.
    final class Recorder: Notifier {
        let receiver: String
        let accepted = Mutex<[String: Int]>([:])
        let groups = Mutex<[[String]]>([])
        let failing: Mutex<DeliveryFailure?>
        init(_ receiver: String, failing: DeliveryFailure? = nil) {
            self.receiver = receiver
            self.failing = Mutex(failing)
        }
        func notify(_ group: NotificationGroup) async throws {
            if let failure = failing.withLock({ $0 }) { throw failure }
            // Read as a real notifier reads them: each id must come back as its notification.
            let notifications = try await group.notifications()
            guard notifications.map(\.id) == group.ids else { throw DeliveryFailure(reason: "read other notifications than its ids") }
            accepted.withLock { for n in notifications { $0[n.id, default: 0] += 1 } }
            groups.withLock { $0.append(group.ids.sorted()) }
        }
        var total: Int { accepted.withLock { $0.values.reduce(0, +) } }
        var duplicates: Int { accepted.withLock { $0.values.filter { $0 > 1 }.count } }
    }

    /// Opens a state store and closes it however the body ends (SQLiteNIO insists on a close).
    func withState(_ folder: String? = nil, _ body: (AlertStateStore) async throws -> Void) async throws {
        let state = try await AlertStateStore.open(directory: try folder ?? Self.folder())
        do {
            try await body(state)
        } catch {
            await state.close()
            throw error
        }
        await state.close()
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-ledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A state file of version 4 (alerts and notifications as JSON) opens, its rows read as they
    /// were, and what changes is written in the packed form and read back.
    @Test func aVersion4StateReadsItsJSONAlertsAndWritesPackedOnes() async throws {
        let folder = try Self.folder()
        var tracker = RecordingTracker()
        let first = step(["A", "B"], at: t0, tracker: &tracker)
        try await withState(folder) { try await $0.record(first) { _ in [] } }
        // Back to version 4: no `packed` column, each alert's JSON in `body`.
        do {
            let file = try SQLite3Connection(path: folder + "/alerts.sqlite", flags: .readWrite)
            let encoder = JSONEncoder()
            try file.execute("ALTER TABLE alerts DROP COLUMN packed")
            for alert in first.changed {
                let body = String(decoding: try encoder.encode(alert), as: UTF8.self).replacingOccurrences(of: "'", with: "''")
                try file.execute("UPDATE alerts SET body = '\(body)' WHERE fingerprint = '\(alert.fingerprint)'")
            }
            try file.execute("ALTER TABLE notifications DROP COLUMN packed")
            for notification in first.notifications {
                let body = String(decoding: try encoder.encode(notification), as: UTF8.self).replacingOccurrences(of: "'", with: "''")
                try file.execute("UPDATE notifications SET body = '\(body)' WHERE id = '\(notification.id)'")
            }
            try file.execute("PRAGMA user_version = 4")
        }
        // JSON rows carry the summary as text, not the template it came from.
        func asText(_ alert: Alert) -> Alert {
            var alert = alert
            alert.message = .rendered(alert.summary)
            return alert
        }
        try await withState(folder) { state in
            #expect(try await state.activeAlerts() == first.changed.map(asText).sorted { $0.fingerprint < $1.fingerprint })
            #expect(try await state.notifications() == first.notifications.map { notification in var told = notification; told.alert = asText(told.alert); return told }
                .sorted { $0.id < $1.id })
            let second = step(["A"], at: t0.addingTimeInterval(60), tracker: &tracker)
            try await state.record(second) { _ in [] }
            let expected = (tracker.active.values.map(asText) + second.changed.filter { $0.status == .resolved }).sorted { $0.fingerprint < $1.fingerprint }
            #expect(expected.map(\.subject.id).sorted() == ["A", "B"])
            #expect(try await state.allAlerts() == expected)
        }
    }

    /// The log of a large transaction is cut back once checkpointed: a national first cycle
    /// left a 1 GB `alerts.sqlite-wal` beside the state file for as long as the daemon ran.
    @Test func theLogIsCutBackAfterALargeStep() async throws {
        let folder = try Self.folder()
        var tracker = RecordingTracker()
        let large = step((0..<5_000).map { "S\($0)" }, at: t0, tracker: &tracker)
        let limit = 64 << 10
        let state = try await AlertStateStore.open(directory: folder, walSizeLimit: limit)
        func logSize() throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: folder + "/alerts.sqlite-wal")[.size] as? Int) ?? 0
        }
        try await state.record(large, destinations: Self.destinations)
        // Past 1,000 pages, the commit had the log checkpointed on the state's other connection.
        #expect(try logSize() > 1_000 * 4096)
        await state.waitForCheckpoint()
        // Every frame is in the database already: a checkpoint now has nothing left to copy.
        let other = try SQLite3Connection(path: folder + "/alerts.sqlite", flags: .readWrite)
        let check = try other.prepare("PRAGMA wal_checkpoint(PASSIVE)")
        #expect(try check.step() && check.int64(1) > 1_000 && check.int64(1) == check.int64(2))
        check.reset()
        // The next write starts the log over, and cuts the file back.
        try await state.recordRun(check: "demo", at: t0, duration: 0.1, outcome: "ok", reason: nil, findings: 3_000)
        #expect(try logSize() <= limit)
        await state.close()
    }

    func step(_ subjects: [String], at instant: Date, tracker: inout RecordingTracker) -> AlertTracker.Step {
        let findings = subjects.map { subject in
            LabeledFinding(finding: Finding(rule: Self.rule, subject: Subject(kind: "unit", id: subject, name: subject)),
                           check: "demo", messageID: Self.rule.messageID,
                           labels: ["check": "demo", "rule": Self.rule.id, "subject_id": subject], severity: .warning, pendingFor: .zero)
        }
        return tracker.apply(scope: "demo", findings: findings, at: instant)
    }

    static let router = Router(root: Route(receiver: "a", routes: [Route(receiver: "a", continueMatching: true), Route(receiver: "b")]))
    static func destinations(_ n: NTMAlerting.Notification) -> [Destination] { router.destinations(of: n) }

    var noWait: DeliverySettings {
        var settings = DeliverySettings()
        settings.groupWait = .zero
        settings.groupInterval = .zero
        return settings
    }

    /// Defect 2: one failing receiver made every healthy one get the whole pending outbox again.
    @Test func aFailingReceiverNeverRepeatsNotificationsToTheOthers() async throws {
        try await withState { state in
            let healthy = Recorder("a"), failing = Recorder("b", failing: DeliveryFailure(reason: "down"))
            var settings = noWait
            settings.retryInitial = .zero
            let dispatcher = Dispatcher(state: state, notifiers: [healthy, failing], settings: settings, logger: Logger(label: "test"))
            var tracker = RecordingTracker()
            for round in 0..<10 {
                let subjects = (0...round).map { "U\($0)" }
                try await state.record(step(subjects, at: t0.addingTimeInterval(Double(round)), tracker: &tracker), destinations: Self.destinations)
                await dispatcher.flush(now: Date())
            }
            #expect(healthy.total == 10)
            #expect(healthy.duplicates == 0)
            #expect(failing.total == 0)
            failing.failing.withLock { $0 = nil }
            await dispatcher.flush(now: Date().addingTimeInterval(3600))
            #expect(failing.total == 10 && failing.duplicates == 0)
            #expect(healthy.total == 10)
            #expect(try await state.ledgerDepth().pending == 0)
        }
    }

    /// Defect 3: a crash after a batch left but before it was marked re-sends exactly that batch,
    /// with the same ids and composition (so a webhook file is replaced, not duplicated), and
    /// notifications recorded meanwhile do not join it.
    @Test func aBatchInterruptedByACrashIsResentWithTheSameComposition() async throws {
        let folder = try Self.folder()
        var state = try await AlertStateStore.open(directory: folder)
        var tracker = RecordingTracker()
        try await state.record(step(["U1", "U2"], at: t0, tracker: &tracker), destinations: { _ in
            [Destination(receiver: "a", groupKey: "{0}:{}", groupLabels: [:])] })
        let pending = try await state.pendingDeliveries()
        try await state.assignBatches([.init(id: "batch-1", receiver: "a", groupKey: "{0}:{}", ids: pending.map(\.entry.id))], at: Date())
        await state.close()  // the crash: sent, not marked

        state = try await AlertStateStore.open(directory: folder)
        try await state.record(step(["U1", "U2", "U3"], at: t0.addingTimeInterval(60), tracker: &tracker), destinations: { _ in
            [Destination(receiver: "a", groupKey: "{0}:{}", groupLabels: [:])] })
        let recorder = Recorder("a")
        let dispatcher = Dispatcher(state: state, notifiers: [recorder], settings: noWait, logger: Logger(label: "test"))
        await dispatcher.flush(now: Date(), force: true)
        let groups = recorder.groups.withLock { $0 }
        #expect(groups.contains(pending.map(\.entry.id).sorted()))
        #expect(groups.count == 2)
        #expect(recorder.duplicates == 0 && recorder.total == 3)
        let events = try await state.deliveryEvents()
        #expect(events.filter { $0.result == "delivered" && $0.batch == "batch-1" }.count == 2)
        await state.close()
    }

    /// A receiver's groups go out a few at a time, as Alertmanager flushes each group on its
    /// own; one group that fails is retried alone, and every other group is delivered once.
    @Test func aReceiversGroupsAreSentAFewAtATime() async throws {
        final class Slow: Notifier {
            let receiver = "a"
            let inFlight = Mutex((now: 0, most: 0))
            let accepted = Mutex<[String: Int]>([:])
            func notify(_ group: NotificationGroup) async throws {
                inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                defer { inFlight.withLock { $0.now -= 1 } }
                try await Task.sleep(for: .milliseconds(50))
                if group.groupKey == "{0}:{unit=\"U3\"}" { throw DeliveryFailure(reason: "refused") }
                accepted.withLock { for id in group.ids { $0[id, default: 0] += 1 } }
            }
        }
        try await withState { state in
            let slow = Slow()
            let dispatcher = Dispatcher(state: state, notifiers: [slow], settings: noWait, logger: Logger(label: "test"))
            var tracker = RecordingTracker()
            let units = (0..<10).map { "U\($0)" }
            try await state.record(step(units, at: t0, tracker: &tracker), destinations: { n in
                [Destination(receiver: "a", groupKey: "{0}:{unit=\"\(n.alert.subject.id)\"}", groupLabels: ["unit": n.alert.subject.id])] })
            let report = await dispatcher.flush(now: Date(), force: true)
            #expect(report.sent == 9 && report.failed == 1)
            #expect(slow.inFlight.withLock { $0.most } == Dispatcher.concurrentBatches)
            #expect(slow.accepted.withLock { $0.count == 9 && $0.values.allSatisfy { $0 == 1 } })
            #expect(try await state.ledgerDepth().pending == 1)
        }
    }

    /// Defect 7: the daemon batches like Alertmanager: a new group waits `group_wait`, then what
    /// joins it waits `group_interval` since the last send.
    @Test func groupsWaitAndThenSendTogether() async throws {
        try await withState { state in
            let recorder = Recorder("a")
            var settings = DeliverySettings()
            settings.groupWait = .seconds(30)
            settings.groupInterval = .seconds(300)
            let dispatcher = Dispatcher(state: state, notifiers: [recorder], settings: settings, logger: Logger(label: "test"))
            var tracker = RecordingTracker()
            let route: @Sendable (NTMAlerting.Notification) -> [Destination] = { _ in [Destination(receiver: "a", groupKey: "{0}:{}", groupLabels: [:])] }
            try await state.record(step(["U1"], at: t0, tracker: &tracker), destinations: route)
            let now = Date()
            #expect(await dispatcher.flush(now: now).sent == 0)
            try await state.record(step(["U1", "U2"], at: t0.addingTimeInterval(1), tracker: &tracker), destinations: route)
            #expect(await dispatcher.flush(now: now.addingTimeInterval(31)).sent == 2)
            #expect(recorder.groups.withLock { $0 }.count == 1)
            try await state.record(step(["U1", "U2", "U3"], at: t0.addingTimeInterval(2), tracker: &tracker), destinations: route)
            #expect(await dispatcher.flush(now: now.addingTimeInterval(60)).sent == 0)
            #expect(await dispatcher.flush(now: now.addingTimeInterval(332)).sent == 1)
            #expect(recorder.total == 3 && recorder.duplicates == 0)
        }
    }

    @Test func retryAfterIsHonouredAndOldRowsBecomeDeadLetters() async throws {
        try await withState { state in
            let recorder = Recorder("a", failing: DeliveryFailure(reason: "HTTP 429", retryAfter: .seconds(120)))
            var settings = noWait
            settings.retryInitial = .seconds(1)
            settings.deadLetterAfter = .seconds(3600)
            let dispatcher = Dispatcher(state: state, notifiers: [recorder], settings: settings, logger: Logger(label: "test"))
            var tracker = RecordingTracker()
            try await state.record(step(["U1"], at: t0, tracker: &tracker), destinations: { _ in
                [Destination(receiver: "a", groupKey: "g", groupLabels: [:])] })
            let now = Date()
            #expect(await dispatcher.flush(now: now).failed == 1)
            #expect(await dispatcher.flush(now: now.addingTimeInterval(60)) == Dispatcher.Report())
            #expect(await dispatcher.flush(now: now.addingTimeInterval(7200)).dead == 1)
            let failing = try await state.failingReceivers()
            #expect(failing.map(\.receiver) == ["a"] && failing[0].deadLetters == 1 && failing[0].lastError == "HTTP 429")
            #expect(try await state.ledgerDepth() == (0, 1))
            let results = try await state.deliveryEvents().map(\.result)
            #expect(results == ["failed", "failed", "dead"])
        }
    }

    @Test func theHistoryKeepsEveryTransition() async throws {
        try await withState { state in
            var tracker = RecordingTracker()
            try await state.record(step(["U1"], at: t0, tracker: &tracker), destinations: { _ in [] })
            try await state.record(step([], at: t0.addingTimeInterval(60), tracker: &tracker), destinations: { _ in [] })
            let transitions = try await state.transitions()
            #expect(transitions.map(\.from) == [nil, .firing])
            #expect(transitions.map(\.to) == [.firing, .resolved])
            #expect(try await state.notifications().map(\.reason) == [.firing, .resolved])
        }
    }

    /// The record writes each alert just before the first notification that carries it and
    /// packs that notification from the same bytes (issue 21: it held every alert's bytes for
    /// the ledger). Whatever the two orders, every notification keeps the alert it was made
    /// with, and the alerts table the last version of each.
    @Test func eachNotificationKeepsItsOwnAlertWhateverTheOrderOfTheStep() async throws {
        try await withState { state in
            var tracker = RecordingTracker()
            let made = step(["U1", "U2", "U3"], at: t0, tracker: &tracker)
            let (a1, a2, a3) = (made.changed[0], made.changed[1], made.changed[2])
            var later = a1
            later.values = ["days_overdue": .integer(3)]
            func notification(_ alert: Alert, _ suffix: String) -> NTMAlerting.Notification {
                var notification = made.notifications[0]
                notification.id = "\(alert.fingerprint)-\(suffix)"
                notification.alert = alert
                return notification
            }
            var mixed = AlertTracker.Step()
            mixed.changed = [a1, a2, a3, later]
            let notifications = [notification(a3, "a"), notification(a1, "b"), notification(later, "c"), notification(a2, "d")]
            mixed.notifications = notifications
            try await state.record(mixed, destinations: { _ in [] })
            let read = Dictionary(uniqueKeysWithValues: try await state.notifications().map { ($0.id, $0.alert) })
            #expect(read == Dictionary(uniqueKeysWithValues: notifications.map { ($0.id, $0.alert) }))
            let alerts = Dictionary(uniqueKeysWithValues: try await state.activeAlerts().map { ($0.fingerprint, $0) })
            #expect(alerts.count == 3)
            #expect(alerts[a1.fingerprint] == later && alerts[a2.fingerprint] == a2 && alerts[a3.fingerprint] == a3)
        }
    }

    /// A step of several slices (issue 21: a national first cycle's rows are prepared on another
    /// thread a slice ahead of the writing) is written whole and in order: every alert, every
    /// notification with its own alert, a ledger row per destination, each template once.
    @Test func aStepOfManySlicesIsWrittenWholeWithEachTemplateOnce() async throws {
        try await withState { state in
            var tracker = RecordingTracker()
            let made = step((0..<2_500).map { "U\($0)" }, at: t0, tracker: &tracker)
            #expect(made.changed.count == 2_500 && made.notifications.count == 2_500)
            try await state.record(made, destinations: Self.destinations)
            #expect(try await state.activeAlerts() == made.changed.sorted { $0.fingerprint < $1.fingerprint })
            let read = try await state.notifications()
            #expect(Dictionary(uniqueKeysWithValues: read.map { ($0.id, $0) })
                    == Dictionary(uniqueKeysWithValues: made.notifications.map { ($0.id, $0) }))
            let pending = try await state.pendingDeliveries()
            #expect(pending.count == 5_000 && Set(pending.map(\.receiver)) == ["a", "b"])
            let file = try SQLite3Connection(path: state.path, flags: .readOnly)
            let templates = try file.prepare("SELECT number, vi FROM messages")
            #expect(try templates.step() && templates.int64(0) == 0 && templates.text(1) == Self.rule.template.vi)
            #expect(try !templates.step())
        }
    }

    /// Marking a batch sent or failed found its rows by going through every pending row of the
    /// ledger, once per batch (issue 21: a third of a national first cycle's delivery). They are
    /// found through the index of the batches under way, and a batch's rows are fixed through the
    /// primary key, one statement per batch.
    @Test func aBatchsRowsAreFoundWithoutGoingThroughTheLedger() async throws {
        let folder = try Self.folder()
        try await withState(folder) { state in
            var tracker = RecordingTracker()
            try await state.record(step(["A", "B"], at: t0, tracker: &tracker), destinations: Self.destinations)
        }
        let file = try SQLite3Connection(path: folder + "/alerts.sqlite", flags: .readOnly)
        typealias SQL = AlertStateStore.LedgerSQL
        for (statement, index) in [(SQL.markDelivered, "deliveries_batch (batch=? AND receiver=?)"),
                                   (SQL.countDying, "deliveries_batch (batch=? AND receiver=?)"),
                                   (SQL.assignBatch, "sqlite_autoindex_deliveries_1 (notification_id=? AND receiver=?)")] {
            let plan = try file.prepare("EXPLAIN QUERY PLAN " + statement)
            var steps: [String] = []
            while try plan.step() { steps.append(plan.text(3)) }
            #expect(steps.contains { $0.contains("SEARCH deliveries USING INDEX " + index) }, "\(steps)")
        }
    }

    /// The daemon writes templates while `ntmwatch` and the tracker's own reader have the file
    /// open: a reader whose table is older than a row reads the table again, and the row.
    @Test func aReaderOpenedBeforeATemplateWasWrittenStillReadsIt() async throws {
        let folder = try Self.folder()
        try await withState(folder) { state in
            var tracker = RecordingTracker()
            try await state.record(step(["A"], at: t0, tracker: &tracker)) { _ in [] }
            // Each reader's first read after the new template takes a different path.
            var readers: [AlertStateStore] = []
            for _ in 0..<3 {
                let reader = try #require(try await AlertStateStore.openReadOnly(directory: folder))
                #expect(try await reader.activeAlerts().map(\.subject.id) == ["A"])
                readers.append(reader)
            }
            let stored = try state.storedAlerts()
            // A rule of another template, first written now.
            let other = Rule(id: "demo.stalled", title: LocalizedText(vi: "Đình trệ", en: "Stalled"), defaultSeverity: .warning,
                             messageID: "22222222222222222222222222222222",
                             template: LocalizedText(vi: "{subject} đình trệ", en: "{subject} stalled"))
            let finding = LabeledFinding(finding: Finding(rule: other, subject: Subject(kind: "unit", id: "B", name: "B")),
                                         check: "demo", messageID: other.messageID,
                                         labels: ["check": "demo", "rule": other.id, "subject_id": "B"], severity: .warning, pendingFor: .zero)
            let second = tracker.apply(scope: "demo-2", findings: [finding], at: t0)
            try await state.record(second) { _ in [] }
            let alert = try #require(second.changed.first)
            #expect(try await readers[0].activeAlerts().map(\.subject.id).sorted() == ["A", "B"])
            #expect(try await readers[1].notifications(of: alert.fingerprint).map(\.alert) == [alert])
            #expect(try await readers[2].trackedAlerts().map(\.subjectID).sorted() == ["A", "B"])
            #expect(try stored.alert(alert.fingerprint) == alert)
            for reader in readers { await reader.close() }
        }
    }

    /// Issue 18: the history of a run as of a past day was pruned by the wall clock at the next
    /// flush, so the digests built from it showed nothing new and nothing resolved.
    @Test func pruningCountsTheHistorysAgeFromItsNewestEntry() async throws {
        try await withState { state in
            let day: TimeInterval = 86_400
            // Whole seconds, so that the instants compare exactly after the round trip through SQLite.
            let now = Date(timeIntervalSince1970: 1_795_000_000), past = now.addingTimeInterval(-800 * day)
            func days() async throws -> [Double] { try await state.transitions().map { $0.at.timeIntervalSince(past) / day } }
            var tracker = RecordingTracker()
            try await state.record(step(["U1"], at: past, tracker: &tracker), destinations: { _ in [] })
            try await state.record(step(["U2"], at: past.addingTimeInterval(300 * day), tracker: &tracker), destinations: { _ in [] })
            try await state.record(step([], at: past.addingTimeInterval(500 * day), tracker: &tracker), destinations: { _ in [] })
            #expect(try await days() == [0, 300, 300, 500])
            // 400 days back from the newest entry (day 500), not from the wall clock (day 800).
            try await state.prune(keeping: .seconds(400 * day), now: now)
            #expect(try await days() == [300, 300, 500])
            // A history ahead of the wall clock is pruned by the wall clock.
            try await state.prune(keeping: .seconds(100 * day), now: past.addingTimeInterval(450 * day))
            #expect(try await days() == [500])
        }
    }

    @Test func backoffGrowsIsJitteredAndCapped() async throws {
        try await withState { state in
            var settings = DeliverySettings()
            settings.retryInitial = .seconds(10)
            settings.retryMax = .seconds(600)
            let dispatcher = Dispatcher(state: state, notifiers: [], settings: settings, logger: Logger(label: "test"))
            for attempts in 0..<12 {
                let base = min(10 * pow(2, Double(attempts)), 600)
                let delay = await dispatcher.backoff(attempts: attempts, retryAfter: nil)
                #expect(delay >= base / 2 && delay <= base)
            }
            #expect(await dispatcher.backoff(attempts: 0, retryAfter: .seconds(300)) == 300)
        }
    }
}
