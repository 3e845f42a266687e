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
        let queAn = try #require(Self.find(findings, "satisfaction.below_threshold", "20104"))
        #expect(queAn.severity == .critical && queAn.labels["survey_kind"] == "ntm_results")
        // Quế Thuận: 97.3% in 2023, 90% in 2024.
        let queThuan = try #require(Self.find(findings, "satisfaction.declining", "20109"))
        #expect(queThuan.finding.values["previous_rate"].map { if case .percent(let p) = $0 { abs(p - 97.33) < 0.01 } else { false } } == true)
        // Tam Thái's 313 of 320 is conclusive.
        #expect(!(findings ?? []).contains { $0.finding.subject.id == "20131" })
    }
}
