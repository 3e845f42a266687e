import CheckKit
import Foundation
import NTMAlerting
import Testing
@testable import NTMWatchCore

/// The sample's dated reform scenario (Config/sample/README.md): on 1/7/2025 the districts are
/// abolished and the communes move under the province, Quảng Nam merges into Đà Nẵng (48), and
/// Đại Chánh (20107) merges into Đại Tân (20108). Every built-in module, loaded as the daemon loads
/// it, over the sample in SQLite, on both sides of the date.
@Suite struct SampleReformTests {
    static let dead: Set<String> = Set(["49", "20107"] + (502...519).map(String.init))

    static func findings(_ engine: Engine, at day: String) async throws -> [LabeledFinding] {
        try await engine.evaluate(at: SampleScenarioTests.at(day)).flatMap(\.findings)
    }

    static func find(_ findings: [LabeledFinding], _ rule: String, _ subject: String) -> LabeledFinding? {
        SampleScenarioTests.find(findings, rule, subject)
    }

    @Test func bothSidesOfTheFirstOfJuly2025() async throws {
        try await SampleScenarioTests.withAllModules { _, engine in
            let before = try await Self.findings(engine, at: "2025-06-16")
            let after = try await Self.findings(engine, at: "2025-08-01")

            // Routing: before, Đại Chánh's alerts go to its district and Quảng Nam; after, every
            // label names a unit that exists, and a merged commune's alert goes to its heir.
            let growing = try #require(Self.find(before, "debt.new_debt", "20107"))
            #expect(growing.labels["district"] == "502" && growing.labels["province"] == "49")
            for finding in after {
                let labels = ["commune", "district", "province", "escalation_target"].compactMap { finding.labels[$0] }
                #expect(Self.dead.isDisjoint(with: labels), "\(finding.finding.ruleID) \(finding.finding.subject.id): \(finding.labels)")
                #expect(finding.labels["district"] == nil, "\(finding.finding.ruleID) \(finding.finding.subject.id): \(finding.labels)")
            }
            let project = try #require(Self.find(after, "debt.settlement_overdue", "DA-DC-01"))
            #expect(project.labels["commune"] == "20108" && project.labels["province"] == "48")

            // Debt: Đại Chánh's project counts against Đại Tân, recognized in December 2024, after the merger only.
            #expect(Self.find(before, "debt.recognized_unit_has_debt", "20108") == nil)
            let heir = try #require(Self.find(after, "debt.recognized_unit_has_debt", "20108"))
            #expect(heir.finding.values["projects"].map { $0.plain.contains("DA-DC-01") } == true)
            #expect(Self.find(after, "debt.new_debt", "20107") == nil)

            // Deadlines: Tà Bhing never finished its plan review; escalated to Nam Giang, then to the province.
            #expect(Self.find(before, "deadline.overdue_escalated", "OB-06/20112")?.labels["escalation_target"] == "506")
            #expect(Self.find(after, "deadline.overdue_escalated", "OB-06/20112")?.labels["escalation_target"] == "48")
            // Nam Giang's late district duty stops with the district.
            #expect(Self.find(before, "deadline.overdue", "OB-02/506") != nil)
            #expect(Self.find(after, "deadline.overdue", "OB-02/506") == nil)
            // The roadmap's 2026 year has no dossier dates in the default calendar.
            #expect(Self.find(after, "deadline.calendar_missing", "dossier_calendar/2026") != nil)

            // District rules stop instead of firing, or reading the target as met.
            #expect(Self.find(before, "standards.district_without_recognized_commune", "506") != nil)
            #expect(!after.contains { $0.finding.ruleID == "standards.district_without_recognized_commune" })
            #expect(Self.find(before, "targets.off_track", "T-HUYEN0") != nil)
            #expect(!after.contains { $0.finding.subject.id == "T-HUYEN0" })
            // Quảng Nam's targets survive its merger: still counted over its communes, now one
            // fewer (Đại Chánh is part of Đại Tân).
            #expect(Self.find(before, "targets.off_track", "T-NTM")?.finding.values["population"] == .integer(112))
            #expect(Self.find(after, "targets.off_track", "T-NTM")?.finding.values["population"] == .integer(111))
        }
    }
}
