import CheckKit
import Foundation
import Logging
@testable import NTMModuleHost
import NTMStore
import Testing
import NTMAlerting
import NTMDelivery
import NTMSQLite
import MetricsTestKit
@testable import NTMWatchCore

/// The daemon's pipeline in process, with real parts: a module loaded with dlopen, an SQLite
/// store, the alert state file and webhook files.
@Suite struct EngineTests {
    let logger = Logger(label: "test")
    let t0 = InstantText.parse("2024-10-25")!

    @Test func moduleLoadedAtRunTimeRaisesAlertsWithHierarchyLabels() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration()
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        #expect(await engine.runtime.modules.map(\.path) == [sandbox.path("modules/libNTMTestCheck.so")])
        #expect(await !engine.allChecksHaveRun)
        try await engine.runCycle(at: t0)
        // A cycle's checks count as run once it has recorded their results.
        #expect(await engine.allChecksHaveRun)
        let alerts = try await engine.activeAlerts()
        #expect(alerts.map(\.subject.name).sorted() == ["Tiên Lãnh", "Đại Chánh"])
        let tienLanh = try #require(alerts.first { $0.subject.id == "QNA.TP.TL" })
        #expect(tienLanh.status == .firing)
        #expect(tienLanh.labels["district"] == "QNA.TP")
        #expect(tienLanh.labels["province"] == "QNA")
        #expect(tienLanh.labels["commune"] == "QNA.TP.TL")
        #expect(tienLanh.summary.vi == "Xã Tiên Lãnh cần xử lý trước ngày 01/11/2024, số tiền 1.234.567.000 đ")
        await engine.close()
    }

    /// `ntmwatch_ledger_pending` counts a run's notifications as soon as they are recorded. It
    /// was set only at the end of a flush, so a flush that read the ledger just before them left
    /// it at 0 until the next one: a daemon ready after its first cycle showed nothing to send.
    @Test func recordingARunSetsTheLedgerGaugeBeforeAnyFlush() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration()
        let metrics = TestMetrics()
        let engine = try await Engine.start(try sandbox.load(), logger: logger, metrics: DaemonMetrics(factory: metrics))
        let check = try #require(await engine.runtime.checks.first)
        try await engine.process([(check, .failed("deliberate failure"))], at: t0)
        let pending = try await engine.state.ledgerDepth().pending
        #expect(pending > 0)
        #expect(try metrics.expectGauge("ntmwatch_ledger_pending").lastValue == Double(pending))
        await engine.close()
    }

    /// Start does not read the open alerts (READY=1 waited seconds for 40,000 of them): they
    /// load behind it, and one that cannot be read is still found before anything uses them.
    @Test func startLeavesTheOpenAlertsForLaterAndSettlingFindsABrokenOne() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration()
        let first = try await Engine.start(try sandbox.load(), logger: logger)
        try await first.runCycle(at: t0)
        #expect(try await first.activeAlerts().count == 2)
        await first.close()

        do {
            let file = try SQLite3Connection(path: sandbox.path("state/alerts.sqlite"), flags: .readWrite)
            try file.execute("UPDATE alerts SET packed = x'01ff' WHERE status <> 'resolved'")
        }
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        #expect(await engine.statusLine().contains("reading the alert state"))
        await #expect(throws: (any Error).self) { try await engine.settle() }
        await engine.close()
    }

    @Test func groupWritableModuleAndIncompatibleABIAreRefusedAndReported() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so", mode: 0o664)
        try sandbox.installModule("libNTMTestCheckIncompatible.so")
        _ = try sandbox.configuration()
        let runtime = Runtime.build(try sandbox.load())
        #expect(runtime.checks.isEmpty)
        let reasons = runtime.problems.map(\.reason).joined(separator: "\n")
        #expect(reasons.contains("writable by its group or by others"))
        #expect(reasons.contains("built against CheckKit ABI \(ModuleExport.abiVersion + 1000)"))
        #expect(reasons.contains("module 'testcheck' is not loaded"))

        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        let failed = try await engine.activeAlerts().filter { $0.ruleID == "ntmwatch.module_failed" }
        #expect(failed.count == 3)
        await engine.flushDeliveries(force: true)
        let files = try sandbox.webhookFiles("province")
        #expect(files.flatMap(\.payload.alerts).filter { $0.labels["rule"] == "ntmwatch.module_failed" }.count == 3)
        await engine.close()
    }

    @Test func worldWritableModuleFolderIsRefused() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: sandbox.path("modules"))
        let (modules, failures) = ModuleLoader(directories: [sandbox.path("modules")]).loadAll()
        #expect(modules.isEmpty)
        #expect(failures.first?.reason.contains("writable by its group or by others") == true)
    }

    @Test func throwingAndHangingModulesAreReportedAndTheOthersRun() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration(checks: """
              - module: testcheck
              - module: testcheck
                name: broken
                settings: {mode: throw}
              - module: testcheck
                name: stuck
                timeout: 300ms
                settings: {mode: hang}
            """)
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        let alerts = try await engine.activeAlerts()
        #expect(alerts.filter { $0.check == "testcheck" && $0.ruleID == "testcheck.commune_flagged" }.count == 2)
        let failed = try #require(alerts.first { $0.ruleID == "ntmwatch.module_failed" })
        #expect(failed.subject.id == "broken")
        #expect(failed.values["reason"] == .text("deliberate failure of the test module"))
        let timedOut = try #require(alerts.first { $0.ruleID == "ntmwatch.module_timeout" })
        #expect(timedOut.subject.id == "stuck")
        await engine.close()
    }

    /// `--once` takes each check's findings through the alert stages as soon as the checks
    /// before it by name are done (issue 21): checks that end first still come after those in
    /// the state, as when all were taken at the end.
    @Test func aCycleRecordsItsChecksInNameOrderWhicheverEndsFirst() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration(checks: """
              - module: testcheck
                name: zz-quick
              - module: testcheck
                name: aa-stuck
                timeout: 300ms
                settings: {mode: hang}
              - module: testcheck
                name: mm-quick
            """)
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        await engine.close()
        let raw = try SQLite3Connection(path: sandbox.path("state/alerts.sqlite"), flags: [.readOnly])
        let statement = try raw.prepare("SELECT check_name FROM alerts ORDER BY rowid")
        var order: [String] = []
        while try statement.step() {
            if order.last != statement.text(0) { order.append(statement.text(0)) }
        }
        #expect(order == ["aa-stuck", "mm-quick", "zz-quick"])
    }

    @Test func webhookFilesAreAlertmanagerV4AndGroupedAsConfigured() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration(groupBy: "[district]")
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        await engine.close()

        let province = try sandbox.webhookFiles("province")
        // One group per district at the root; Tiên Phước's alert also goes to its own office.
        #expect(province.map(\.payload.groupLabels).sorted { $0["district"]! < $1["district"]! } == [["district": "QNA.DL"], ["district": "QNA.TP"]])
        let district = try sandbox.webhookFiles("tien-phuoc")
        #expect(district.count == 1)
        #expect(district[0].payload.alerts.map { $0.labels["subject_id"] } == ["QNA.TP.TL"])
        for file in province + district {
            for key in ["version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
                        "commonAnnotations", "externalURL", "alerts"] {
                #expect(file.json[key] != nil, "missing \(key) in \(file.name)")
            }
            #expect(file.payload.version == "4")
            #expect(file.payload.status == "firing")
            let alert = try #require(file.payload.alerts.first)
            #expect(alert.endsAt == "0001-01-01T00:00:00Z")
            #expect(alert.startsAt == "2024-10-24T17:00:00Z")
            #expect(alert.labels["severity"] == "warning")
            #expect(alert.fingerprint.count == 16)
            #expect(alert.annotations["source"] == "002 §IV.10")           // the rule's document and section
            #expect(file.name.hasPrefix("20241024T170000"))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.path("spool/province")).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")
    }

    @Test func restartNeitherRepeatsNotificationsNorMissesAResolution() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration()
        var engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        await engine.close()
        #expect(try sandbox.webhookFiles("province").flatMap(\.payload.alerts).count == 2)

        // A restart, and a cycle an hour later: still firing, nothing new to say.
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0.addingTimeInterval(3600))
        await engine.close()
        #expect(try sandbox.webhookFiles("province").flatMap(\.payload.alerts).count == 2)

        // While the daemon is down, Đại Chánh stops being flagged.
        _ = try sandbox.configuration(checks: "  - module: testcheck\n    settings: {flag_region: plains}\n")
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0.addingTimeInterval(7200))
        try await engine.runCycle(at: t0.addingTimeInterval(7260))
        await engine.close()
        let alerts = try sandbox.webhookFiles("province").flatMap(\.payload.alerts)
        let resolved = alerts.filter { $0.status == "resolved" }
        #expect(resolved.map { $0.labels["subject_id"] ?? "" }.sorted() == ["QNA.DL.DC", "QNA.TP.TL"])
        #expect(resolved.allSatisfy { $0.endsAt == "2024-10-24T19:00:00Z" })
        #expect(alerts.filter { $0.status == "firing" && $0.labels["subject_id"] == "QNA.TP.TC" }.count == 1)
    }
}

/// A module that reports a rule it never declared: a fake, to reach the runner's guard directly.
private struct UndeclaredRuleModule: CheckModule {
    static let declared = Rule(id: "liar.declared", title: LocalizedText(vi: "x", en: "x"), defaultSeverity: .warning,
                               messageID: "0123456789abcdef0123456789abcdef", template: LocalizedText(vi: "x", en: "x"))
    var descriptor: ModuleDescriptor {
        ModuleDescriptor(name: "liar", version: "1", summary: LocalizedText(vi: "x", en: "x"), settings: [], rules: [Self.declared])
    }

    func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        var finding = Finding(rule: Self.declared, subject: Subject(kind: "unit", id: "QNA", name: "Quảng Nam"))
        finding.ruleID = "liar.undeclared"
        return [finding]
    }
}

extension EngineTests {
    @Test func aFindingOfAnUndeclaredRuleFailsTheRun() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        _ = try sandbox.configuration()
        let configuration = try sandbox.load()
        let store = Store(location: configuration.store.location)
        try await store.migrate()
        let check = ConfiguredCheck(name: "liar", module: LoadedModule(module: UndeclaredRuleModule(), path: "(test)"),
                                    settings: try Settings(specs: [], provided: [:]), interval: .seconds(60), timeout: .seconds(10),
                                    severity: [:], pendingFor: [:])
        let outcome = await CheckRunner().run(check, store: store, at: t0, logger: logger)
        guard case .failed(let reason) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reason.contains("rule 'liar.undeclared', which it does not declare"))
    }
}
