import CheckKit
import Foundation
import Logging
import Testing
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
        let byDate = try await Self.findings("debt", at: ["2023-12-15", "2023-12-16", "2024-03-15", "2024-06-05", "2024-10-15"])
        // DA-TC-01, allocated 2021-03-15 and never settled: warned from 2023-12-16, critical from 2024-03-15.
        #expect(Self.find(byDate["2023-12-15"], "debt.settlement_overdue", "DA-TC-01") == nil)
        #expect(Self.find(byDate["2023-12-16"], "debt.settlement_overdue", "DA-TC-01")?.severity == .warning)
        #expect(Self.find(byDate["2024-03-15"], "debt.settlement_overdue", "DA-TC-01")?.severity == .critical)
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
}
