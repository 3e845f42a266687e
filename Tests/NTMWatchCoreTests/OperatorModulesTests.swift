import CheckKit
import Foundation
import Logging
@testable import NTMModuleHost
import NTMStore
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// The checks operators add without rebuilding: executables (our JSON protocol, and Monitoring
/// Plugins run as they are) and SQL rule files, through the same engine, alert state, journald
/// and webhook files as the built-in modules.
@Suite struct OperatorModulesTests {
    let logger = Logger(label: "test")
    static let plugins = "/usr/lib/nagios/plugins"

    /// Writes a file into the sandbox's module folder with `mode`.
    func install(_ sandbox: Sandbox, _ name: String, _ text: String, mode: Int = 0o644) throws {
        try sandbox.write("modules/\(name)", text)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: sandbox.path("modules/\(name)"))
    }

    func start(_ sandbox: Sandbox, checks: String = "  - module: testcheck\n", seedFrom: String = "seed") async throws -> Engine {
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration(checks: checks, seedFrom: seedFrom)
        return try await Engine.start(try sandbox.load(), logger: logger)
    }

    func outcome(_ results: [(check: String, outcome: CheckOutcome, findings: [LabeledFinding])], _ check: String) -> CheckOutcome? {
        results.first { $0.check == check }?.outcome
    }

    static let jsonScript = #"""
        #!/bin/sh
        read -r request
        today=$(printf '%s' "$request" | sed -n 's/.*"today":"\([0-9-]*\)".*/\1/p')
        backend=$(printf '%s' "$request" | sed -n 's/.*"backend":"\([a-z]*\)".*/\1/p')
        nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)
        echo "looked at $today" >&2
        printf '{"findings":[{"rule":"seen","subject":{"kind":"unit","id":"QNA.DL.DC","name":"Đại Chánh","unit_id":"QNA.DL.DC"},"values":{"today":"%s","backend":"%s","no_new_privs":%s,"secret":"%s","pgid_leader":%s}}]}\n' \
          "$today" "$backend" "$nnp" "${NTMWATCH_TEST_SECRET:-unset}" "$(ps -o pgid= -p $$ | tr -d ' ')"
        """#

    static let jsonManifest = """
        name: seen
        title: {vi: "Kiểm tra thử", en: "Test check"}
        command: [./seen.sh]
        interval: 1h
        timeout: 10s
        rules:
          - id: seen
            severity: warning
            source: "002 §IV.10"
            message: {vi: "{subject}: đã xem ngày {today}", en: "{subject}: looked at {today}"}
        """

    @Test func aJSONExecModuleGetsTheRequestAndItsFindingsReachJournaldAndWebhookFiles() async throws {
        let journald = try Journald.ensureRunning()
        setenv("NTMWATCH_TEST_SECRET", "must-not-leak", 1)
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "seen.sh", Self.jsonScript, mode: 0o755)
        try install(sandbox, "seen.exec.yaml", Self.jsonManifest)
        let engine = try await start(sandbox)
        let at = InstantText.parse("2024-10-25")!
        try await engine.runCycle(at: at)
        let alert = try #require(try await engine.activeAlerts().first { $0.ruleID == "seen.seen" })
        await engine.close()

        #expect(alert.labels["district"] == "QNA.DL")                 // the unit hierarchy, as for built-in modules
        #expect(alert.values["today"] == .text("2024-10-25"))
        #expect(alert.values["backend"] == .text("sqlite"))
        #expect(alert.values["no_new_privs"] == .integer(1))
        #expect(alert.values["secret"] == .text("unset"))             // a clean environment
        #expect(alert.summary.vi == "Đại Chánh: đã xem ngày 2024-10-25")
        let webhook = try sandbox.webhookFiles("province").flatMap(\.payload.alerts)
        #expect(webhook.contains { $0.labels["alertname"] == "seen.seen" && $0.labels["check"] == "seen" && $0.annotations["source"] == "002 §IV.10" })
        let entries = try await journald.entries(matching: "NTMWATCH_INSTANCE=\(sandbox.instance)", atLeast: 3)
        #expect(entries.contains { $0["NTMWATCH_RULE"] == "seen.seen" && $0["NTMWATCH_NO_NEW_PRIVS"] == "1" && $0["NTMWATCH_SOURCE"] == "002 §IV.10" })
    }

    @Test func monitoringPluginsFromDebianRunAsTheyAre() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "\(Self.plugins)/check_file_age"),
                     "needs Debian's monitoring-plugins-basic (scripts/test.sh installs it)")
        let journald = try Journald.ensureRunning()
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        // The import folder's newest file is an hour old: critical past 30 minutes.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: sandbox.path("seed/units.csv"))
        try install(sandbox, "import_age.exec.yaml", """
            name: import_age
            title: {vi: "Tệp nhập dữ liệu quá cũ", en: "Import file too old"}
            protocol: nagios
            command: [\(Self.plugins)/check_file_age, -w, "600", -c, "1800", -f, \(sandbox.path("seed/units.csv"))]
            """)
        try install(sandbox, "dummy.exec.yaml", """
            name: dummy
            protocol: nagios
            command: [\(Self.plugins)/check_dummy, "1", "Báo cáo tháng chưa đến"]
            """)
        try install(sandbox, "quiet.exec.yaml", """
            name: quiet
            protocol: nagios
            command: [\(Self.plugins)/check_dummy, "0", "all good"]
            """)
        let engine = try await start(sandbox)
        try await engine.runCycle(at: Date())
        let alerts = try await engine.activeAlerts()
        await engine.close()

        let age = try #require(alerts.first { $0.ruleID == "import_age.status" })
        #expect(age.severity == .critical && age.labels["plugin_status"] == "CRITICAL")
        guard case .number(let seconds)? = age.values["perf_age"] else { Issue.record("no perf_age in \(age.values)"); return }
        #expect((3590...3700).contains(seconds))
        #expect(age.values["output"]?.plain.hasPrefix("FILE_AGE CRITICAL") == true)
        #expect(alerts.first { $0.ruleID == "dummy.status" }?.severity == .warning)
        #expect(alerts.first { $0.ruleID == "dummy.status" }?.summary.vi == "dummy: WARNING: Báo cáo tháng chưa đến")
        #expect(!alerts.contains { $0.ruleID == "quiet.status" })       // OK is no alert
        let entries = try await journald.entries(matching: "NTMWATCH_INSTANCE=\(sandbox.instance)", atLeast: 4)
        #expect(entries.contains { $0["NTMWATCH_RULE"] == "import_age.status" && $0["PRIORITY"] == "2" })
        #expect(try sandbox.webhookFiles("province").flatMap(\.payload.alerts).contains { $0.labels["alertname"] == "dummy.status" })
    }

    @Test func aHangingExecModuleIsKilledOnTimeWithItsChildren() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "hang.sh", "#!/bin/sh\nsleep 300 &\necho $! > \"$1\"\nsleep 300\n", mode: 0o755)
        try install(sandbox, "hang.exec.yaml", "name: hang\ncommand: [./hang.sh, \(sandbox.path("state/child.pid"))]\ntimeout: 1s\nrules: []\n")
        let engine = try await start(sandbox)
        let started = ContinuousClock.now
        let results = try await engine.evaluate(at: Date())
        let elapsed = ContinuousClock.now - started
        await engine.close()
        guard case .timedOut? = outcome(results, "hang") else { Issue.record("hang: \(String(describing: outcome(results, "hang")))"); return }
        // Not killed, the plugin sleeps 300 s; under load the whole evaluation took 5.7 s on CI.
        #expect(elapsed < .seconds(60))
        let child = try #require(Int32(String(contentsOfFile: sandbox.path("state/child.pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let state = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
        #expect(state == nil || state == "Z", "the plugin's background child \(child) is still running")
        #expect(outcome(results, "testcheck").map { if case .findings = $0 { true } else { false } } == true)
    }

    @Test func aPluginThatPrintsTenMegabytesIsCutOff() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "loud.exec.yaml", "name: loud\ncommand: [/bin/sh, -c, \"head -c 10485760 /dev/zero\"]\nrules: []\n")
        let engine = try await start(sandbox)
        let results = try await engine.evaluate(at: Date())
        await engine.close()
        guard case .failed(let reason)? = outcome(results, "loud") else { Issue.record("loud: \(String(describing: outcome(results, "loud")))"); return }
        #expect(reason.contains("wrote more than 1048576 bytes to stdout"))
    }

    @Test func malformedOutputIsModuleFailedWithTheReason() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "garbled.exec.yaml", "name: garbled\ncommand: [/bin/echo, \"not json\"]\nrules: []\n")
        try install(sandbox, "undeclared.exec.yaml", """
            name: undeclared
            command: [/bin/echo, '{"findings":[{"rule":"nope","subject":{"id":"x"}}]}']
            rules: []
            """)
        let engine = try await start(sandbox)
        try await engine.runCycle(at: Date())
        let alerts = try await engine.activeAlerts().filter { $0.ruleID == "ntmwatch.module_failed" }
        await engine.close()
        let reasons = alerts.map(\.summary.en).joined(separator: "\n")
        #expect(reasons.contains("its output is not JSON"))
        #expect(reasons.contains("rule 'undeclared.nope' is not declared in the manifest"))
    }

    @Test func sqlThatWritesIsRefusedByTheStoreAndNothingChanges() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "wipe.sql.yaml", """
            name: wipe
            query: "DELETE FROM units WHERE level = ?"
            parameters: [commune]
            subject: {id: id}
            message: {vi: "{subject}", en: "{subject}"}
            """)
        let engine = try await start(sandbox)
        let results = try await engine.evaluate(at: Date())
        let problems = await engine.runtime.problems
        let communes = try await engine.store.withReader(asOf: Date()) { try await $0.units() }.filter { $0.level == "commune" }.count
        await engine.close()
        #expect(outcome(results, "wipe") == nil)                            // refused when loaded, so never run
        let reason = problems.first { $0.subject.hasSuffix("wipe.sql.yaml") }?.reason ?? ""
        #expect(reason.contains("DELETE") && reason.contains("read-only"), "\(problems)")
        #expect(communes == 3)
    }

    @Test func theShippedSQLModulesFindTheSamplesCases() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installShippedSQLModules()
        let journald = try Journald.ensureRunning()
        let engine = try await start(sandbox, checks: "  - module: testcheck\n", seedFrom: Sandbox.sampleFolder)
        let results = try await engine.evaluate(at: InstantText.parse("2024-12-01")!)
        try await engine.runCycle(at: InstantText.parse("2024-12-01")!)
        await engine.close()
        // Through the pipeline like any module: journald fields and webhook files.
        let entries = try await journald.entries(matching: "NTMWATCH_RULE=village_review.not_reviewed", atLeast: 1)
        #expect(entries.contains { $0["NTMWATCH_INSTANCE"] == sandbox.instance && $0["NTMWATCH_RECOGNIZED_ON"] == "2020-11-20"
                                   && $0["NTMWATCH_SOURCE"] == "002 §II.6" })
        #expect(try sandbox.webhookFiles("province").flatMap(\.payload.alerts).contains {
            $0.labels["alertname"] == "model_villages.too_few" && $0.annotations["source"] == "002 §IV.4.c"
        })
        let village = results.first { $0.check == "village_review" }?.findings.map(\.finding.subject.id)
        // Thôn 1 recognized 20/11/2020 and Thôn Phú Hòa on 15/10/2021 ("từ năm 2021 trở về trước"), neither reviewed.
        #expect(village?.sorted() == ["20139-T03", "20211-T02"])
        // At least two model villages per NTM commune: Tam Thái has none, Đại Hiệp only Thôn Phú Hòa.
        let models = results.first { $0.check == "model_villages" }?.findings ?? []
        #expect(models.first { $0.finding.subject.id == "20131" }?.finding.values["model_villages"] == .integer(0))
        #expect(models.first { $0.finding.subject.id == "20211" }?.finding.values["model_villages"] == .integer(1))
    }

    @Test func aReloadPicksUpANewModuleAndDropsARemovedOneKeepingTheOtherAlerts() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "first.exec.yaml", "name: first\nprotocol: nagios\ncommand: [/bin/sh, -c, \"echo first is late; exit 2\"]\n")
        let engine = try await start(sandbox)
        let t0 = InstantText.parse("2024-10-25")!, t1 = t0.addingTimeInterval(3600)
        try await engine.runCycle(at: t0)
        let before = try await engine.activeAlerts()
        #expect(before.contains { $0.ruleID == "first.status" })

        try FileManager.default.removeItem(atPath: sandbox.path("modules/first.exec.yaml"))
        try install(sandbox, "second.exec.yaml", "name: second\nprotocol: nagios\ncommand: [/bin/sh, -c, \"echo second is late; exit 1\"]\n")
        try await engine.reload(try sandbox.load())
        #expect(await engine.runtime.checks.map(\.name).sorted() == ["second", "testcheck"])
        try await engine.runCycle(at: t1)
        let after = try await engine.activeAlerts()
        await engine.close()

        #expect(!after.contains { $0.ruleID == "first.status" })
        #expect(after.contains { $0.ruleID == "second.status" && $0.severity == .warning })
        let kept = before.filter { $0.ruleID.hasPrefix("testcheck.") }
        #expect(!kept.isEmpty)
        for alert in kept {
            #expect(after.first { $0.fingerprint == alert.fingerprint }?.activeSince == alert.activeSince)
        }
    }

    @Test func untrustedOrBrokenManifestsAreReportedAndTheOthersLoad() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try install(sandbox, "loose.exec.yaml", "name: loose\nprotocol: nagios\ncommand: [/bin/true]\n", mode: 0o664)
        try install(sandbox, "loose.sh", "#!/bin/sh\nexit 0\n", mode: 0o777)
        try install(sandbox, "program.exec.yaml", "name: program\nprotocol: nagios\ncommand: [./loose.sh]\n")
        try install(sandbox, "typo.sql.yaml", "name: typo\nquery: SELECT 1 AS id\nsubject: {id: id}\nmessage: {vi: x}\nintervall: 5m\n")
        try install(sandbox, "fine.exec.yaml", "name: fine\nprotocol: nagios\ncommand: [/bin/true]\n")
        let engine = try await start(sandbox)
        let runtime = await engine.runtime
        await engine.close()
        #expect(runtime.checks.map(\.name).sorted() == ["fine", "testcheck"])
        let reasons = runtime.problems.map { "\($0.subject): \($0.reason)" }.joined(separator: "\n")
        #expect(reasons.contains("loose.exec.yaml: refused") && reasons.contains("writable by its group or by others"))
        #expect(reasons.contains("program.exec.yaml: its program: refused"))
        #expect(reasons.contains("typo.sql.yaml:5") && reasons.contains("intervall"), "\(reasons)")
    }

    @Test func performanceDataAndMessageIDs() {
        let values = ExecModule.performanceData("age=3600s;600;1800 size=1234B;;;0 'load 1'=0.5")
        #expect(values == ["perf_age": .number(3600), "perf_size": .number(1234), "perf_load_1": .number(0.5)])
        #expect(MessageID.derived(from: "a.b") == MessageID.derived(from: "a.b"))
        #expect(MessageID.derived(from: "a.b") != MessageID.derived(from: "a.c"))
        #expect(MessageID.derived(from: "a.b").count == 32)
    }

    @Test func operatorModulesGiveTextInBothLanguagesAsOneLocalizedValue() throws {
        // SQL: columns x_vi and x_en also give x; the pair stays, and a column x already there wins.
        var values: [String: Value] = ["problem_vi": .text("thiếu ngày"), "problem_en": .text("no date"),
                                       "name_vi": .text("tên"), "name": .text("kept")]
        SQLRuleModule.mergeLanguagePairs(&values)
        #expect(values["problem"] == .localized(LocalizedText(vi: "thiếu ngày", en: "no date")))
        #expect(values["problem_vi"] == .text("thiếu ngày"))
        #expect(values["name"] == .text("kept"))
        // Exec (JSON protocol): {"vi": …, "en": …}.
        let decoded = try JSONDecoder().decode(ExecModule.JSONValue.self, from: Data(#"{"vi": "thiếu ngày", "en": "no date"}"#.utf8))
        #expect(decoded.value == .localized(LocalizedText(vi: "thiếu ngày", en: "no date")))
    }
}
