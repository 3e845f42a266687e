import CheckKit
import Foundation
import Logging
import NTMAlerting
import NTMAlertingTestSupport
import NTMDelivery
import NTMSQLite
import Testing
@testable import NTMWatchCore
@testable import NTMWeb

/// What the console reads of the alert state (issue 19): the alerts' console columns, the mark
/// its cached overview is keyed by, a version-5 file given them when it is opened, and the
/// overview drawn from them in the daemon's own process.
@Suite struct ConsoleStateTests {
    static let rule = Rule(id: "demo.late", title: LocalizedText(vi: "Trễ hạn", en: "Late"), defaultSeverity: .warning,
                           messageID: "11111111111111111111111111111111",
                           template: LocalizedText(vi: "{subject} trễ hạn", en: "{subject} is late"))
    let t0 = Date(timeIntervalSince1970: 1_731_369_600)

    func step(_ subjects: [(id: String, unit: String?)], at instant: Date, tracker: inout RecordingTracker) -> AlertTracker.Step {
        tracker.apply(scope: "demo", findings: subjects.map { subject in
            LabeledFinding(finding: Finding(rule: Self.rule, subject: Subject(kind: "project", id: subject.id, name: "Dự án \(subject.id)",
                                                                              unitID: subject.unit)),
                           check: "demo", messageID: Self.rule.messageID,
                           labels: ["check": "demo", "rule": Self.rule.id, "subject_id": subject.id], severity: .warning, pendingFor: .zero)
        }, at: instant)
    }

    static func open(_ folder: String) async throws -> AlertStateStore {
        try await AlertStateStore.open(directory: folder)
    }

    @Test func theConsoleColumnsFollowTheAlertsAndTheMarkMovesOnlyWithThem() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try await Self.open(sandbox.path("state")).closing { state in
            var tracker = RecordingTracker()
            try await state.record(step([("P1", "C1"), ("P2", nil)], at: t0, tracker: &tracker), destinations: { _ in [] })
            let alerts = tracker.active.values.sorted { $0.fingerprint < $1.fingerprint }
            let open = try await state.openAlertIndex().sorted { $0.fingerprint < $1.fingerprint }
            #expect(open.map(\.fingerprint) == alerts.map(\.fingerprint))
            #expect(open.map(\.unitID) == alerts.map(\.subject.unitID))
            #expect(open.allSatisfy { $0.severity == .warning && $0.status == .firing && abs($0.activeSince.timeIntervalSince(t0)) < 0.001 })
            let p1 = try #require(alerts.first { $0.subject.id == "P1" }).fingerprint
            let p2 = try #require(alerts.first { $0.subject.id == "P2" }).fingerprint

            // The heartbeat and the check runs change the file every minute, not the alerts.
            let mark = try await state.changeMark()
            try await state.heartbeat(at: t0, pid: 1)
            try await state.recordRun(check: "demo", at: t0, duration: 1, outcome: "ok", reason: nil, findings: 2)
            #expect(try await state.changeMark() == mark)

            // P2 resolves: it leaves the open index, closes in the openings, and the mark moves.
            try await state.record(step([("P1", "C1")], at: t0.addingTimeInterval(60), tracker: &tracker), destinations: { _ in [] })
            #expect(try await state.openAlertIndex().map(\.fingerprint) == [p1])
            #expect(try await state.changeMark() != mark)
            let openings = try await state.openings(since: t0)
            #expect(openings.filter { $0.fingerprint == p2 }.map(\.opens) == [true, false])
            #expect(openings.first { $0.fingerprint == p1 }?.unitID == "C1")
            // Alerts open before the window's start enter it as openings at the start.
            let start = t0.addingTimeInterval(30)
            let later = try await state.openings(since: start)
            #expect(later.filter { $0.at == start && $0.opens }.map(\.fingerprint).sorted() == [p1, p2].sorted())
            #expect(later.filter { $0.at > start }.map(\.fingerprint) == [p2])

            // By fingerprint, resolved ones too.
            #expect(try await state.alert(fingerprint: p2)?.status == .resolved)
            #expect(try await state.alerts(fingerprints: [p1, p2, "0000000000000000"]).map(\.fingerprint) == [p1, p2].sorted())
            #expect(try await state.notifications(of: p2).map(\.reason) == [.firing, .resolved])
            #expect(try await state.notifications(of: p1).map(\.alert.fingerprint) == [p1])
        }
    }

    /// A state with P1 (unit C1) and P2 (C2) open, then its file opened past the store, to be
    /// made into an older version's.
    func twoAlertsOpenedRaw(in sandbox: Sandbox, tracker: inout RecordingTracker) async throws -> SQLite3Connection {
        var recording = tracker
        try await Self.open(sandbox.path("state")).closing { state in
            try await state.record(step([("P1", "C1"), ("P2", "C2")], at: t0, tracker: &recording), destinations: { _ in [] })
        }
        tracker = recording
        return try SQLite3Connection(path: sandbox.path("state/alerts.sqlite"), flags: [.readWrite])
    }

    /// Version 5 packed new alerts, version 4 wrote JSON: both get their console columns.
    @Test(arguments: [4, 5]) func anOlderStateGetsTheConsoleColumnsWhenOpened(version: Int) async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        var tracker = RecordingTracker()
        // What version 6 added (and for version 4, what 5 did) taken away again.
        do {
            let raw = try await twoAlertsOpenedRaw(in: sandbox, tracker: &tracker)
            try raw.execute("""
                DROP TABLE alert_changes;
                DROP INDEX alerts_open; DROP INDEX alert_history_at; DROP INDEX notifications_fingerprint;
                ALTER TABLE alerts DROP COLUMN severity; ALTER TABLE alerts DROP COLUMN unit_id;
                ALTER TABLE alerts DROP COLUMN active_since; ALTER TABLE alerts DROP COLUMN resolved_at;
                PRAGMA user_version = \(version)
                """)
            if version == 4 {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                for alert in tracker.active.values {
                    let json = String(decoding: try encoder.encode(alert), as: UTF8.self).replacingOccurrences(of: "'", with: "''")
                    try raw.execute("UPDATE alerts SET body = '\(json)' WHERE fingerprint = '\(alert.fingerprint)'")
                }
                try raw.execute("ALTER TABLE alerts DROP COLUMN packed")
            }
        }
        try await Self.open(sandbox.path("state")).closing { state in
            #expect(try await state.openAlertIndex().compactMap(\.unitID).sorted() == ["C1", "C2"])
            let mark = try await state.changeMark()
            try await state.record(step([("P1", "C1")], at: t0.addingTimeInterval(60), tracker: &tracker), destinations: { _ in [] })
            #expect(try await state.openAlertIndex().compactMap(\.unitID) == ["C1"])
            #expect(try await state.changeMark() != mark)
        }
    }

    /// Version 8 counted the alerts' writes with a trigger per row; from version 9 a step adds
    /// its count once. A version-8 file loses its triggers when opened (or every write would be
    /// counted twice), and the count still moves by one per alert row written or deleted.
    @Test func theMarkCountsEachAlertWriteOnceAfterTheTriggersAreGone() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        var tracker = RecordingTracker()
        do {
            let raw = try await twoAlertsOpenedRaw(in: sandbox, tracker: &tracker)
            try raw.execute("""
                CREATE TRIGGER alerts_inserted AFTER INSERT ON alerts BEGIN UPDATE alert_changes SET count = count + 1; END;
                CREATE TRIGGER alerts_updated AFTER UPDATE ON alerts BEGIN UPDATE alert_changes SET count = count + 1; END;
                CREATE TRIGGER alerts_deleted AFTER DELETE ON alerts BEGIN UPDATE alert_changes SET count = count + 1; END;
                PRAGMA user_version = 8
                """)
        }
        try await Self.open(sandbox.path("state")).closing { state in
            let before = try await state.changeMark().alertChanges
            // P1 stays as it was (not written), P2 resolves (one write), P3 opens (one write).
            try await state.record(step([("P1", "C1"), ("P3", "C3")], at: t0.addingTimeInterval(60), tracker: &tracker),
                                   destinations: { _ in [] })
            #expect(try await state.changeMark().alertChanges == before + 2)
        }
        let raw = try SQLite3Connection(path: sandbox.path("state/alerts.sqlite"), flags: [.readOnly])
        let statement = try raw.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger'")
        #expect(try statement.step())
        #expect(statement.int64(0) == 0)
    }

    /// In the daemon's process, over the sample's state: the overview decodes no resolved alert
    /// (one that is no alert at all does not stop it), and is drawn again only when the alerts
    /// change, not when the heartbeat writes.
    @Test func theOverviewDecodesNoResolvedAlertAndIsKeptUntilTheAlertsChange() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let (config, _) = try ConsoleTests.sampleState(sandbox, console: "")
        let configuration = try ConfigLoader.load(path: config)
        let engine = try await Engine.start(configuration, logger: Logger(label: "test"))
        let console = try Console(settings: try #require(configuration.console), configuration: configuration, engine: engine)
        do {
            let raw = try SQLite3Connection(path: sandbox.path("state/alerts.sqlite"), flags: [.readWrite])
            raw.setBusyTimeout(milliseconds: 5000)
            try raw.execute("""
                INSERT INTO alerts (fingerprint, check_name, status, body, packed, severity, unit_id, active_since, resolved_at)
                VALUES ('00000000000000ff', 'debt', 'resolved', 'no alert', x'00', 'critical', '20104', 0, 1)
                """)
            let vi = Words(language: .vi), en = Words(language: .en)
            let first = try await console.overview(vi).body.html
            #expect(first.contains("href=\"/alert/") && first.contains("Cảnh báo đang phát theo khu vực"))
            #expect(await console.state.overviewBuilds == 1)
            // Kept: the same body but its first line, which says the instant.
            let again = try await console.overview(vi).body.html
            #expect(await console.state.overviewBuilds == 1)
            #expect(again.split(separator: "\n").dropFirst() == first.split(separator: "\n").dropFirst())
            #expect(try await console.overview(en).body.html.contains("Firing alerts by area"))
            #expect(await console.state.overviewBuilds == 2)
            try await engine.state.heartbeat(at: Date(), pid: 1)
            _ = try await console.overview(vi)
            #expect(await console.state.overviewBuilds == 2)
            var tracker = RecordingTracker()
            try await engine.state.record(step([("P9", "20104")], at: t0, tracker: &tracker), destinations: { _ in [] })
            _ = try await console.overview(vi)
            #expect(await console.state.overviewBuilds == 3)
        } catch {
            // SQLiteNIO asserts that its connections are closed, whatever failed.
            await console.close()
            await engine.close()
            throw error
        }
        await console.close()
        await engine.close()
    }
}
