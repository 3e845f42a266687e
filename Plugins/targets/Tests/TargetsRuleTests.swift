import CheckKit
import Testing
@testable import TargetsCheck

func day(_ text: String) -> CivilDate { CivilDate(text)! }

/// Each indicator, the gap in units, the projection, the date passing, the one-time notice.
@Suite struct TargetsRuleTests {
    /// Ten communes in two districts (one in the mountains, with two villages), 2021-2025 set of two criteria.
    static let units: [String: AdministrativeUnit] = {
        var units: [String: AdministrativeUnit] = [
            "D1": AdministrativeUnit(id: "D1", name: "Đại Lộc", level: "district", parentID: "P", region: "plains"),
            "D2": AdministrativeUnit(id: "D2", name: "Nam Giang", level: "district", parentID: "P", region: "mountain"),
        ]
        for i in 1...10 { units["C\(i)"] = AdministrativeUnit(id: "C\(i)", name: "Xã \(i)", level: "commune", parentID: i <= 8 ? "D1" : "D2") }
        units["V1"] = AdministrativeUnit(id: "V1", name: "Thôn 1", level: "village", parentID: "C9")
        units["V2"] = AdministrativeUnit(id: "V2", name: "Thôn 2", level: "village", parentID: "C1")
        return units
    }()
    static let set = CriteriaSet(id: "S", name: LocalizedText(vi: "Bộ", en: "Set"), unitLevel: "commune", tier: "ntm",
                                 validFrom: day("2022-01-01"), validTo: day("2025-12-31"), criteria: [
                                     Criterion(code: "1", name: LocalizedText(vi: "Một", en: "One"), measure: .boolean),
                                     Criterion(code: "2", name: LocalizedText(vi: "Hai", en: "Two"), measure: .boolean),
                                 ])

    func run(_ today: String, _ targets: [ProvinceTarget], recognitions: [Recognition] = [], assessments: [Assessment] = []) throws -> [Finding] {
        let parameters = try TargetsCheck.Parameters(Settings(specs: TargetsCheck().descriptor.settings, provided: ["minimum_criteria": .integer(2)]))
        let indicators = Indicators(units: Self.units, sets: [Self.set], assessments: assessments, recognitions: recognitions,
                                    minimumCriteria: parameters.minimumCriteria)
        return TargetsCheck.findings(today: day(today), parameters: parameters, indicators: indicators, targets: targets)
    }

    func target(_ indicator: String, _ value: Double, unit: String = "%", by: String = "2025-12-31", baseline: Double? = nil,
                baselineOn: String? = nil) -> ProvinceTarget {
        ProvinceTarget(id: "T-\(indicator)", indicator: indicator, title: LocalizedText(vi: "Chỉ tiêu \(indicator)", en: "Target \(indicator)"),
                       target: value, unit: unit, by: day(by), baseline: baseline, baselineOn: baselineOn.map(day))
    }

    func ntm(_ ids: ClosedRange<Int>, on: String) -> [Recognition] {
        ids.map { Recognition(unitID: "C\($0)", tier: "ntm", recognizedOn: day(on)) }
    }

    @Test func aShareTargetStatesTheGapInCommunesAndTheProjection() throws {
        // 2 of 10 at the start of 2024, 4 of 10 at the start of 2025: 6 of 10 projected by the end of 2025, 8 needed.
        let recognitions = ntm(1...2, on: "2023-06-01") + ntm(3...4, on: "2024-06-01")
        let findings = try run("2025-01-01", [target("share_recognized_ntm", 80, baselineOn: "2024-01-01")], recognitions: recognitions)
        let offTrack = try #require(findings.first)
        #expect(offTrack.ruleID == "targets.off_track" && offTrack.severity == .warning)
        #expect(offTrack.values["target_count"] == .integer(8) && offTrack.values["gap"] == .integer(4))
        guard case .number(let projected)? = offTrack.values["projected"] else { Issue.record("no projection"); return }
        #expect(abs(projected - (40 + 20 * 364.0 / 366.0)) < 0.01)
        #expect(offTrack.summary.vi.contains("hiện 40% (4/10 xã), mục tiêu 80% (8/10 xã) đến 31/12/2025; còn thiếu 4 xã"))
        // On a pace that reaches it: nothing. Past the date unmet: critical.
        #expect(try run("2025-01-01", [target("share_recognized_ntm", 50, baselineOn: "2024-01-01")], recognitions: recognitions).isEmpty)
        #expect(try run("2026-01-01", [target("share_recognized_ntm", 80)], recognitions: recognitions).first?.severity == .critical)
    }

    @Test func reachingATargetIsAnnouncedOnceWithinTheNoticeWindow() throws {
        let recognitions = ntm(1...8, on: "2025-03-01")
        let goal = [target("share_recognized_ntm", 80)]
        #expect(try run("2025-03-01", goal, recognitions: recognitions).map(\.ruleID) == ["targets.met"])
        #expect(try run("2025-03-30", goal, recognitions: recognitions).map(\.severity) == [.notice])
        #expect(try run("2025-03-31", goal, recognitions: recognitions).isEmpty)
    }

    @Test func lowerIsBetterCountsAndTheAverage() throws {
        let assessments = (1...10).flatMap { i in
            ["1", "2"].map { code in
                Assessment(unitID: "C\(i)", setID: "S", criterionCode: code, assessedOn: day("2024-09-30"), met: i > 3 || code == "1")
            }
        }
        let findings = try run("2024-12-01", [target("communes_below_15", 0, unit: "xã"), target("average_criteria_per_commune", 1.9, unit: "tiêu chí"),
                                              target("districts_without_ntm_commune", 0, unit: "huyện", by: "2024-12-31")],
                               recognitions: ntm(1...1, on: "2023-01-01"), assessments: assessments)
        let below = try #require(findings.first { $0.subject.id == "T-communes_below_15" })
        #expect(below.values["current"] == .number(3) && below.summary.vi.contains("còn 3 xã phải giảm"))
        let average = try #require(findings.first { $0.subject.id == "T-average_criteria_per_commune" })
        #expect(average.values["current"] == .number(1.7))
        let districts = try #require(findings.first { $0.subject.id == "T-districts_without_ntm_commune" })
        #expect(districts.values["current"] == .number(1))       // Nam Giang
    }

    @Test func advancedAndModelSharesAreOverTheNTMCommunes() throws {
        // 5 of 10 communes hold NTM, 2 of them also advanced: 40% of the NTM communes, 20% of all.
        let recognitions = ntm(1...5, on: "2023-01-01") + (1...2).map { Recognition(unitID: "C\($0)", tier: "nang_cao", recognizedOn: day("2023-06-01")) }
        #expect(try run("2024-12-01", [target("share_recognized_nang_cao", 40)], recognitions: recognitions).isEmpty)
        let model = try #require(try run("2024-12-01", [target("share_recognized_kieu_mau", 10)], recognitions: recognitions).first)
        #expect(model.summary.vi.contains("mục tiêu 10% (1/5 xã)"))
        // The seeds' own counts: at least 2 advanced communes.
        #expect(try run("2024-12-01", [target("communes_recognized_nang_cao", 2, unit: "xã")], recognitions: recognitions).isEmpty)
        #expect(try run("2024-12-01", [target("communes_recognized_nang_cao", 3, unit: "xã")], recognitions: recognitions).first?.values["gap"] == .number(1))
    }

    @Test func countsAreRoundedAsTheSeedsRoundThem() {
        #expect(Indicators.neededCount(percent: 80, of: 193) == 154)      // 002 §II.1: "154 xã/193 xã ... 80%"
        #expect(Indicators.neededCount(percent: 50, of: 9) == 5)          // half a unit rounds up
        #expect(Indicators.neededCount(percent: 40, of: 10) == 4)
    }

    @Test func aProjectedNumberOfDistrictsIsWhole() throws {
        // Two districts without an NTM commune at the start of 2023, one since 1/6/2023: the line
        // reaches 0.83 by 31/3/2025 (one district) and 0.44 by the end of 2025 (none).
        let recognitions = ntm(1...1, on: "2023-06-01")
        let slow = try run("2024-12-01", [target("districts_without_ntm_commune", 0, unit: "huyện", by: "2025-03-31", baselineOn: "2023-01-01")],
                           recognitions: recognitions)
        let finding = try #require(slow.first)
        #expect(finding.values["projected"] == .integer(1))
        #expect(finding.summary.vi.hasSuffix("sẽ là 1 huyện"))
        #expect(try run("2024-12-01", [target("districts_without_ntm_commune", 0, unit: "huyện", by: "2025-12-31", baselineOn: "2023-01-01")],
                        recognitions: recognitions).isEmpty)
    }

    @Test func modelVillagesOverallAndInTheMountains() throws {
        let recognitions = [Recognition(unitID: "V2", tier: "kieu_mau", recognizedOn: day("2023-01-01"))]
        let findings = try run("2024-12-01", [target("share_model_villages", 50), target("share_model_villages_mountain", 50)],
                               recognitions: recognitions)
        #expect(findings.map(\.subject.id) == ["T-share_model_villages_mountain"])   // V1 inherits C9's mountain region
    }

    @Test func anIndicatorTheModuleCannotComputeIsBadData() throws {
        let findings = try run("2024-12-01", [target("share_of_happiness", 90), target("average_criteria_per_commune", 16.5, unit: "tiêu chí")])
        #expect(findings.map(\.ruleID) == ["targets.bad_data", "targets.bad_data"])
        #expect(findings[1].summary.en.contains("no commune assessment"))
        #expect(TargetsCheck().descriptor.problems().isEmpty)
    }
}
