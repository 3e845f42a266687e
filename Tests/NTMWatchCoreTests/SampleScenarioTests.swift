import CheckKit
import Foundation
import Logging
import NTMStore
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// The built-in modules as the daemon runs them (built shared libraries loaded with dlopen) over
/// the sample province in a real SQLite store: the situations `Config/sample/README.md` promises.
@Suite struct SampleScenarioTests {
    static func at(_ date: String) -> Date { CivilDate(date)!.startInstant().addingTimeInterval(8 * 3600) }

    /// Runs `module` over the sample as of each date; one engine, closed at the end.
    static func findings(_ module: String, at dates: [String]) async throws -> [String: [LabeledFinding]] {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libntmwatch-\(module).so")
        _ = try sandbox.configuration(checks: "  - module: \(module)\n", seedFrom: Sandbox.sampleFolder)
        let engine = try await Engine.start(try sandbox.load(), logger: Logger(label: "test"))
        var byDate: [String: [LabeledFinding]] = [:]
        do {
            for date in dates { byDate[date] = try await engine.evaluate(at: at(date)).flatMap(\.findings) }
        } catch {
            await engine.close()
            throw error
        }
        await engine.close()
        return byDate
    }

    static func find(_ findings: [LabeledFinding]?, _ rule: String, _ subject: String) -> LabeledFinding? {
        findings?.first { $0.finding.ruleID == rule && $0.finding.subject.id == subject }
    }

    @Test func satisfaction() async throws {
        let findings = try await Self.findings("satisfaction", at: ["2024-10-15"])["2024-10-15"]
        // Đại Chánh: 37 of 40 (92.5%), aiming at NTM in 2024.
        let daiChanh = try #require(Self.find(findings, "satisfaction.not_conclusive", "20107"))
        #expect(daiChanh.severity == .warning)
        #expect(daiChanh.finding.values["respondents"] == .integer(40))
        // Quế An: 170 of 200 (85%), recognized NTM in March 2024.
        let queAn = try #require(findings?.first {
            $0.finding.ruleID == "satisfaction.below_threshold" && $0.finding.subject.id == "20104" && $0.labels["survey_kind"] == "ntm_results"
        })
        #expect(queAn.severity == .critical)
        // Quế Thuận: 97.3% in 2023, 90% in 2024.
        let queThuan = try #require(Self.find(findings, "satisfaction.declining", "20109"))
        #expect(queThuan.finding.values["previous_rate"].map { if case .percent(let p) = $0 { abs(p - 97.33) < 0.01 } else { false } } == true)
        // Tam Thái's 313 of 320 is conclusive.
        #expect(!(findings ?? []).contains { $0.finding.subject.id == "20131" })
    }

    @Test func debt() async throws {
        let byDate = try await Self.findings("debt", at: ["2023-12-15", "2023-12-16", "2024-03-15", "2024-03-16", "2024-06-05", "2024-10-15"])
        // DA-TC-01, allocated 2021-03-15 and never settled: warned from 2023-12-16, critical from 2024-03-15.
        #expect(Self.find(byDate["2023-12-15"], "debt.settlement_overdue", "DA-TC-01") == nil)
        #expect(Self.find(byDate["2023-12-16"], "debt.settlement_overdue", "DA-TC-01")?.severity == .warning)
        #expect(Self.find(byDate["2024-03-15"], "debt.settlement_overdue", "DA-TC-01")?.severity == .warning)
        #expect(Self.find(byDate["2024-03-16"], "debt.settlement_overdue", "DA-TC-01")?.severity == .critical)
        // Central money still paid to Tiên Cảnh's road after its mark of 15/3/2024.
        #expect(Self.find(byDate["2024-10-15"], "debt.upper_money_after_mark", "DA-TC-01")?.finding.values["after_mark_vnd"] == .amountVND(200_000_000))
        // 2016-2020 debt after the cut-off of 1/6/2024.
        #expect(Self.find(byDate["2024-03-15"], "debt.legacy_period_outstanding", "DA-QA-01")?.severity == .warning)
        #expect(Self.find(byDate["2024-06-05"], "debt.legacy_period_outstanding", "DA-QA-01")?.severity == .critical)
        // Quế An, recognized with debt and no repayment plan; Đại Hòa has a plan from 10/7/2024.
        let queAn = try #require(Self.find(byDate["2024-10-15"], "debt.recognized_unit_has_debt", "20104"))
        #expect(queAn.severity == .critical && queAn.finding.values["debt_vnd"] == .amountVND(1_200_000_000))
        #expect(Self.find(byDate["2024-06-05"], "debt.recognized_unit_has_debt", "20135")?.severity == .critical)
        #expect(Self.find(byDate["2024-10-15"], "debt.recognized_unit_has_debt", "20135")?.severity == .warning)
        // Đại Chánh's debt grew from 300 to 450 million; Đại Tân's upper budgets ran ahead of the commune.
        #expect(Self.find(byDate["2024-10-15"], "debt.new_debt", "20107")?.finding.values["increase_vnd"] == .amountVND(150_000_000))
        #expect(Self.find(byDate["2024-10-15"], "debt.counterpart_lagging", "DA-DT-01")?.finding.values["blocked_vnd"] == .amountVND(1_800_000_000))
    }

    @Test func disbursement() async throws {
        let byDate = try await Self.findings("disbursement", at: ["2024-06-30", "2024-09-01", "2024-10-01", "2024-10-10", "2025-09-01"])
        // Tiên Lãnh's plan is still at 0% on 30/6; Quế Thuận's is at 20%.
        #expect(Self.find(byDate["2024-06-30"], "disbursement.zero_at_midyear", "KH24-TL-01")?.severity == .critical)
        #expect(Self.find(byDate["2024-06-30"], "disbursement.behind_schedule", "KH24-TL-01") != nil)
        #expect(Self.find(byDate["2024-06-30"], "disbursement.behind_schedule", "KH24-QT-01")?.finding.values["disbursed_percent"] == .percent(20))
        #expect(Self.find(byDate["2024-06-30"], "disbursement.behind_schedule", "KH24-DT-01") == nil)
        // Đại Lộc's capital carried over from 2023 was due by 31/8/2024 and reached 70%.
        #expect(Self.find(byDate["2024-09-01"], "disbursement.behind_schedule", "KH23-DL-CO")?.severity == .critical)
        // Phú Ninh (514) files its reallocation report on 8/10; Tiên Lãnh never does.
        #expect(Self.find(byDate["2024-10-01"], "disbursement.reallocation_report_due", "514")?.severity == .warning)
        #expect(Self.find(byDate["2024-10-10"], "disbursement.reallocation_report_due", "514") == nil)
        #expect(Self.find(byDate["2024-10-10"], "disbursement.reallocation_report_due", "20103")?.severity == .critical)
        #expect(Self.find(byDate["2025-09-01"], "disbursement.programme_closeout", "KH24-TL-01")?.finding.values["remaining_vnd"] == .amountVND(1_800_000_000))
    }

    @Test func standards() async throws {
        let findings = try await Self.findings("standards", at: ["2024-12-01"])["2024-12-01"]
        // Đại Hòa fails 17 and 17.11; Quế An's income and health only just meet their thresholds.
        let daiHoa = try #require(Self.find(findings, "standards.criterion_lost", "20135"))
        #expect(daiHoa.finding.values["lost"] == .list(["17", "17.11"]) && daiHoa.severity == .critical)
        #expect(Self.find(findings, "standards.at_threshold", "20104")?.finding.values["criteria"] == .list(["10", "15"]))
        // Tiên Cảnh was recognized under 2016-2020 and never re-assessed (due before 30/3/2024).
        #expect(Self.find(findings, "standards.not_reassessed", "20139")?.severity == .critical)
        // Tà Bhing, Bhalêê and Axan are below 15 criteria; Nam Giang has no recognized commune.
        let below = Set((findings ?? []).filter { $0.finding.ruleID == "standards.below_minimum" }.map(\.finding.subject.name))
        #expect(below == ["Tà Bhing", "Bhalêê", "Axan"])
        #expect(Self.find(findings, "standards.district_without_recognized_commune", "506") != nil)
        #expect(Self.find(findings, "standards.roadmap_at_risk", "20112") != nil)
        // The healthy communes raise nothing.
        #expect(!(findings ?? []).contains { ["20131", "20211", "20172"].contains($0.finding.subject.id) && $0.finding.ruleID != "standards.not_reassessed" })
    }

    @Test func targets() async throws {
        let findings = try await Self.findings("targets", at: ["2024-12-01"])["2024-12-01"]
        let share = try #require(Self.find(findings, "targets.off_track", "T-NTM"))
        #expect(share.severity == .warning)
        #expect(share.finding.values["by"] == .date(CivilDate("2025-12-31")!))
        #expect(share.finding.values["source"].map { $0.plain.contains("154/193") } == true)
        guard case .integer(let gap)? = share.finding.values["gap"], case .number? = share.finding.values["projected"] else {
            Issue.record("gap or projection missing: \(share.finding.values)")
            return
        }
        #expect(share.finding.summary.vi.contains("còn thiếu \(gap) xã"))
    }

    static let builtInModules = ["deadline", "satisfaction", "debt", "disbursement", "standards", "targets"]

    /// Every built-in module over the sample, in one engine.
    static func withAllModules(_ body: (Sandbox, Engine) async throws -> Void) async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        for module in builtInModules { try sandbox.installModule("libntmwatch-\(module).so") }
        _ = try sandbox.configuration(checks: builtInModules.map { "  - module: \($0)\n" }.joined(), seedFrom: Sandbox.sampleFolder)
        let engine = try await Engine.start(try sandbox.load(), logger: Logger(label: "test"))
        do { try await body(sandbox, engine) } catch { await engine.close(); throw error }
        await engine.close()
    }

    /// The sample is built to show every rule: evaluated on the first of every month from 2024-01-01 to 2025-12-31 (and
    /// on the days the seeds name), every rule of every built-in module fires at least once. The
    /// `bad_data` rules cannot fire on it, because the import refuses exactly those rows; the next
    /// test writes them past the import.
    @Test func everyRuleOfEveryBuiltInModuleFiresOnTheSampleBetween2024And2025() async throws {
        try await Self.withAllModules { _, engine in
            let declared = Set(await engine.runtime.modules.flatMap { $0.descriptor.rules.map(\.id) })
            #expect(declared.count > 30)
            var days = Set(["2024-06-15", "2024-06-30", "2024-10-10", "2024-11-20", "2025-12-31"].map { CivilDate($0)! })
            var day = CivilDate("2024-01-01")!
            while day <= CivilDate("2025-12-31")! { days.insert(day); day = day.adding(months: 1) }
            var fired = Set<String>()
            for day in days.sorted() {
                for (_, _, findings) in try await engine.evaluate(at: Self.at(day.description)) {
                    fired.formUnion(findings.map(\.finding.ruleID))
                }
            }
            let expected = declared.filter { !$0.hasSuffix(".bad_data") }
            #expect(expected.subtracting(fired).isEmpty, "never fired: \(expected.subtracting(fired).sorted())")
            #expect(fired.filter { $0.hasSuffix(".bad_data") }.isEmpty, "the validated sample raised \(fired.filter { $0.hasSuffix(".bad_data") })")
        }
    }

    /// Rows another tool wrote straight into a shared store, past the import's checks: each module
    /// names them in its `bad_data` rule and goes on with the rest.
    @Test func rowsWrittenPastTheImportAreEachModulesBadData() async throws {
        try await Self.withAllModules { _, engine in
            try await engine.store.withConnection(.readWrite) { connection in
                for statement in [
                    "INSERT INTO obligations (id, title_vi, title_en, schedule, semantics) VALUES ('OB-BAD', 'Sai hạn', 'Bad date', '2024-02-30', 'before')",
                    "INSERT INTO surveys VALUES ('KS-BAD', '20107', '2024-09-21', 'ntm_results', 40, 41)",
                    "INSERT INTO projects (id, name, commune_id, total_vnd, central_vnd) VALUES ('DA-BAD', 'Sai tổng', '20107', 100, 90)",
                    "INSERT INTO capital_plans (id, unit_id, year, source, assigned_vnd) VALUES ('KH-BAD', '20107', 2024, 'central', 0)",
                    "INSERT INTO assessments VALUES ('20107', 'xa-ntm-2021-2025', '99', '2024-09-30', 1, NULL, NULL)",
                    "INSERT INTO province_targets (id, indicator, title_vi, title_en, target, unit, by_date) VALUES ('T-BAD', 'happiness', 'Hạnh phúc', 'Happiness', 90, '%', '2025-12-31')",
                ] { try await connection.sql.raw("\(unsafeRaw: statement)").run() }
            }
            let results = try await engine.evaluate(at: Self.at("2024-10-15"))
            var badSubjects: [String: String] = [:]
            for (check, outcome, findings) in results {
                if case .findings = outcome {} else { Issue.record("\(check) did not run: \(outcome)") }
                for finding in findings where finding.finding.ruleID.hasSuffix(".bad_data") { badSubjects[check] = finding.finding.subject.id }
            }
            #expect(badSubjects == ["deadline": "OB-BAD", "satisfaction": "KS-BAD", "debt": "DA-BAD", "disbursement": "KH-BAD",
                                    "standards": "20107/xa-ntm-2021-2025/99@2024-09-30", "targets": "T-BAD"])
            // The other findings are still there.
            #expect(results.first { $0.check == "satisfaction" }?.findings.contains { $0.finding.ruleID == "satisfaction.not_conclusive" } == true)
        }
    }
}
