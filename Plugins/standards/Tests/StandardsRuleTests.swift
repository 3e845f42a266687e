import CheckKit
import Testing
@testable import StandardsCheck

func day(_ text: String) -> CivilDate { CivilDate(text)! }

/// Each rule over plain values, with a small catalogue: three criteria, one "higher is better",
/// one "lower is better" with a mountain threshold, one boolean, and a sub-indicator.
@Suite struct StandardsRuleTests {
    static let set2025 = CriteriaSet(
        id: "xa-2025", name: LocalizedText(vi: "Bộ 2021-2025", en: "Set 2021-2025"), unitLevel: "commune", tier: "ntm",
        validFrom: day("2022-01-01"), validTo: day("2025-12-31"), criteria: [
            Criterion(code: "2", name: LocalizedText(vi: "Giao thông", en: "Transport"), measure: .boolean),
            Criterion(code: "10", name: LocalizedText(vi: "Thu nhập", en: "Income"),
                      measure: .threshold(48, unit: "triệu", direction: .atLeast, byRegion: ["mountain": 42])),
            Criterion(code: "11", name: LocalizedText(vi: "Nghèo đa chiều", en: "Poverty"),
                      measure: .threshold(13, unit: "%", direction: .atMost, byRegion: ["mountain": 20])),
            Criterion(code: "17", name: LocalizedText(vi: "Môi trường", en: "Environment"), measure: .boolean),
            Criterion(code: "17.11", parentCode: "17", name: LocalizedText(vi: "Phân loại rác", en: "Waste sorting"),
                      measure: .threshold(30, unit: "%", direction: .atLeast, byRegion: [:])),
        ])
    static let set2020 = CriteriaSet(id: "xa-2020", name: LocalizedText(vi: "Bộ 2016-2020", en: "Set 2016-2020"), unitLevel: "commune",
                                     tier: "ntm", validFrom: day("2016-01-01"), validTo: day("2021-12-31"), criteria: set2025.criteria)

    var units: [String: AdministrativeUnit] = [
        "502": AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49"),
        "506": AdministrativeUnit(id: "506", name: "Nam Giang", level: "district", parentID: "49"),
        "A": AdministrativeUnit(id: "A", name: "Quế An", level: "commune", parentID: "502", region: "plains"),
        "H": AdministrativeUnit(id: "H", name: "Đại Hòa", level: "commune", parentID: "502", region: "plains"),
        "T": AdministrativeUnit(id: "T", name: "Tà Bhing", level: "commune", parentID: "506", region: "mountain"),
    ]

    func run(_ today: String, units: [String: AdministrativeUnit]? = nil, assessments: [Assessment] = [],
             recognitions: [Recognition] = [], roadmap: [RoadmapEntry] = [], settings: [String: SettingValue] = [:]) throws -> [Finding] {
        // Four criteria in this catalogue, and no district rule unless a test asks: each test sees its own rule.
        let provided = ["minimum_criteria": .integer(4), "district_level": .text("none")].merging(settings) { $1 }
        let parameters = try StandardsCheck.Parameters(Settings(specs: StandardsCheck().descriptor.settings, provided: provided))
        return StandardsCheck.findings(today: day(today), parameters: parameters, data: StandardsCheck.Data(
            units: units ?? self.units, sets: [Self.set2020, Self.set2025], assessments: assessments,
            recognitions: recognitions, roadmap: roadmap))
    }

    /// A full assessment of `unit` on `on`: every criterion met with comfortable values unless overridden.
    func assess(_ unit: String, on: String = "2024-09-30", set: String = "xa-2025",
                _ overrides: [String: (met: Bool, value: Double?)] = [:]) -> [Assessment] {
        let defaults: [String: (met: Bool, value: Double?)] = ["2": (true, nil), "10": (true, 60), "11": (true, 4), "17": (true, nil), "17.11": (true, 45)]
        return defaults.merging(overrides) { $1 }.map { code, result in
            Assessment(unitID: unit, setID: set, criterionCode: code, assessedOn: day(on), met: result.met, value: result.value)
        }
    }

    func recognized(_ unit: String, on: String = "2023-03-29", set: String = "xa-2025") -> Recognition {
        Recognition(unitID: unit, tier: "ntm", recognizedOn: day(on), setID: set)
    }

    func rules(_ findings: [Finding], for unit: String? = nil) -> [String] {
        findings.filter { unit == nil || $0.subject.id == unit }.map(\.ruleID).sorted()
    }

    @Test func aRecognizedUnitThatFailsACriterionHasLostItWithValueAndThreshold() throws {
        let findings = try run("2024-12-01", assessments: assess("H", ["17": (false, nil), "17.11": (false, 22)]),
                               recognitions: [recognized("H", set: "xa-2020")])
        let lost = try #require(findings.first { $0.ruleID == "standards.criterion_lost" })
        #expect(lost.severity == .critical && lost.labels["tier"] == "ntm")
        #expect(lost.values["lost"] == .list(["17", "17.11"]))
        // 17.11 is a sub-indicator of criterion 17, not a second criterion; its rate reads like Value.percent's.
        #expect(lost.summary.vi.contains("không còn đạt 1 tiêu chí và 1 chỉ tiêu theo"))
        #expect(lost.summary.vi.contains("17 Môi trường; chỉ tiêu 17.11 Phân loại rác: 22% (yêu cầu ≥ 30%); có thể bị thu hồi Quyết định công nhận"))
        #expect(lost.summary.en.contains("no longer meets 1 criterion and 1 sub-indicator of"))
        // A stored value below the threshold counts as lost even when the row says met.
        let contradicted = try run("2024-12-01", assessments: assess("H", ["10": (true, 40)]), recognitions: [recognized("H")])
        #expect(contradicted.first { $0.ruleID == "standards.criterion_lost" }?.values["lost"] == .list(["10"]))
    }

    /// A unit's results are computed once per set (issue 21): a commune holding NTM and aiming at
    /// the advanced tier is judged under each tier's own set, never under the other's results.
    @Test func eachTierIsJudgedUnderItsOwnSetsResults() throws {
        let advanced = CriteriaSet(id: "xa-nc-2025", name: LocalizedText(vi: "Bộ nâng cao", en: "Advanced set"), unitLevel: "commune",
                                   tier: "nang_cao", validFrom: day("2022-01-01"), validTo: day("2025-12-31"), criteria: Self.set2025.criteria)
        let parameters = try StandardsCheck.Parameters(Settings(specs: StandardsCheck().descriptor.settings,
                                                                provided: ["minimum_criteria": .integer(4), "district_level": .text("none")]))
        // All met under the NTM set; under the advanced set 2, 10 and 11 are unmet, with two months left.
        let assessments = assess("A", on: "2025-09-30")
            + assess("A", on: "2025-09-30", set: "xa-nc-2025", ["2": (false, nil), "10": (false, 30), "11": (false, 25)])
        let findings = StandardsCheck.findings(today: day("2025-11-12"), parameters: parameters, data: StandardsCheck.Data(
            units: units, sets: [Self.set2025, advanced], assessments: assessments, recognitions: [recognized("A")],
            roadmap: [RoadmapEntry(unitID: "A", tier: "nang_cao", targetYear: 2025)]))
        #expect(rules(findings) == ["standards.roadmap_at_risk"])
        let risk = try #require(findings.first)
        #expect(risk.labels["tier"] == "nang_cao" && risk.values["unmet"] == .list(["2", "10", "11"]))
    }

    @Test func metButWithinTheMarginIsAtTheThresholdInEitherDirection() throws {
        // Income 50 ≥ 48 but within 5% (2.4); poverty 12.5 ≤ 13 but within 0.65 ("lower is better").
        let findings = try run("2024-12-01", assessments: assess("A", ["10": (true, 50), "11": (true, 12.5)]), recognitions: [recognized("A")])
        #expect(rules(findings) == ["standards.at_threshold"])
        #expect(findings.first?.values["criteria"] == .list(["10", "11"]))
        #expect(findings.first?.summary.vi.hasPrefix("Quế An (đạt chuẩn NTM): 2 tiêu chí chỉ ở mức chạm ngưỡng") == true)
        // Clear of the margin: nothing. A per-criterion margin can widen it.
        #expect(try run("2024-12-01", assessments: assess("A", ["10": (true, 51), "11": (true, 12.3)]), recognitions: [recognized("A")]).isEmpty)
        #expect(rules(try run("2024-12-01", assessments: assess("A", ["10": (true, 51)]), recognitions: [recognized("A")],
                              settings: ["margins": .table(["10": .integer(10)])])) == ["standards.at_threshold"])
    }

    @Test func theRegionsThresholdApplies() throws {
        // Tà Bhing is in the mountains: income threshold 42, poverty 20.
        let findings = try run("2024-12-01", assessments: assess("T", ["10": (true, 44), "11": (true, 19.5)]), recognitions: [recognized("T")])
        #expect(rules(findings) == ["standards.at_threshold"])
        #expect(findings.first?.values["criteria"] == .list(["10", "11"]))
    }

    @Test func aRecognizedUnitWithoutARecentAssessmentIsStale() throws {
        let findings = try run("2024-12-01", assessments: assess("A", on: "2023-11-30"), recognitions: [recognized("A")])
        #expect(rules(findings) == ["standards.assessment_stale"])
        #expect(findings.first?.values["last_assessed_on"] == .date(day("2023-11-30")))
        #expect(try run("2024-12-01", assessments: assess("A", on: "2023-12-02"), recognitions: [recognized("A")]).isEmpty)
    }

    @Test func recognizedUnderTheOldSetAndNotReassessedIsAWarningThenCritical() throws {
        let old = [recognized("A", on: "2019-12-27", set: "xa-2020")]
        let before = try run("2024-03-29", assessments: assess("A", on: "2021-06-30", set: "xa-2020"), recognitions: old)
        #expect(before.first { $0.ruleID == "standards.not_reassessed" }?.severity == .warning)
        let after = try run("2024-03-30", assessments: assess("A", on: "2021-06-30", set: "xa-2020"), recognitions: old)
        #expect(after.first { $0.ruleID == "standards.not_reassessed" }?.severity == .critical)
        // Assessed under the set in force: judged on it instead.
        #expect(try run("2024-03-30", assessments: assess("A", on: "2024-01-15"), recognitions: old).isEmpty)
    }

    @Test func aCommuneBelowFifteenCriteriaIsWarnedAsTheDateNearsAndCriticalAfter() throws {
        let settings: [String: SettingValue] = [:]
        let weak = assess("T", ["2": (false, nil), "10": (false, 30)])       // 2 of 4 criteria
        #expect(try run("2023-12-31", assessments: weak, settings: settings).filter { $0.ruleID == "standards.below_minimum" }.isEmpty)
        let warned = try run("2024-01-01", assessments: weak, settings: settings).first { $0.ruleID == "standards.below_minimum" }
        #expect(warned?.severity == .warning && warned?.values["met_count"] == .integer(2) && warned?.values["criteria_count"] == .integer(4))
        #expect(try run("2026-01-01", assessments: weak, settings: settings).first { $0.ruleID == "standards.below_minimum" }?.severity == .critical)
    }

    @Test func aDistrictWithNoRecognizedCommuneAndATwoTierProvinceWithoutDistricts() throws {
        let districts: [String: SettingValue] = ["district_level": .text("district")]
        let findings = try run("2024-12-01", assessments: assess("A"), recognitions: [recognized("A")], settings: districts)
        #expect(findings.filter { $0.ruleID == "standards.district_without_recognized_commune" }.map(\.subject.id) == ["506"])
        #expect(try run("2025-01-01", assessments: assess("A"), recognitions: [recognized("A")], settings: districts)
            .first { $0.ruleID == "standards.district_without_recognized_commune" }?.severity == .critical)
        var twoTier = units.filter { $0.value.level != "district" }
        for id in ["A", "H", "T"] { twoTier[id]?.parentID = "49" }
        #expect(try run("2025-01-01", units: twoTier, settings: districts).filter { $0.ruleID == "standards.district_without_recognized_commune" }.isEmpty)
    }

    @Test func aRoadmapTargetWithMoreUnmetCriteriaThanMonthsLeftIsAtRisk() throws {
        let roadmap = [RoadmapEntry(unitID: "T", tier: "ntm", targetYear: 2024)]
        let weak = assess("T", ["2": (false, nil), "10": (false, 30)])
        let findings = try run("2024-12-01", assessments: weak, roadmap: roadmap)
        let risk = try #require(findings.first { $0.ruleID == "standards.roadmap_at_risk" })
        #expect(risk.values["unmet"] == .list(["2", "10"]) && risk.values["months_left"] == .integer(1))
        #expect(try run("2024-11-01", assessments: weak, roadmap: roadmap).filter { $0.ruleID == "standards.roadmap_at_risk" }.isEmpty)
        #expect(try run("2024-12-01", assessments: weak, roadmap: roadmap, settings: ["criteria_per_month": .number(2)])
            .filter { $0.ruleID == "standards.roadmap_at_risk" }.isEmpty)
    }

    @Test func aMergedCommunesSuccessorInheritsTheRoadmapAndCountsAssessmentsFromTheMerger() throws {
        var merged = units
        merged["A"]?.validTo = day("2025-02-28")
        merged["A"]?.successorID = "H"
        let roadmap = [RoadmapEntry(unitID: "A", tier: "ntm", targetYear: 2025)]
        // Đại Hòa's own assessment from before the merger describes a smaller commune: not counted.
        let beforeMerger = assess("H", on: "2024-09-30", ["2": (false, nil), "10": (false, 30), "11": (false, 30)])
        let afterMerger = assess("H", on: "2025-11-15", ["2": (false, nil), "10": (false, 30), "11": (false, 30)])
        #expect(try run("2025-12-01", units: merged, assessments: beforeMerger, roadmap: roadmap).isEmpty)
        let findings = try run("2025-12-01", units: merged, assessments: afterMerger, roadmap: roadmap)
        let risk = try #require(findings.first { $0.ruleID == "standards.roadmap_at_risk" })
        #expect(risk.subject.id == "H" && risk.values["target_year"] == .text("2025"))
        // The merged unit itself is gone.
        #expect(!findings.contains { $0.subject.id == "A" })
    }

    @Test func assessmentsForUnknownCriteriaOrOfTheWrongTypeAreBadData() throws {
        let bad = [
            Assessment(unitID: "A", setID: "xa-2025", criterionCode: "99", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "A", setID: "xa-9999", criterionCode: "2", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "A", setID: "xa-2025", criterionCode: "2", assessedOn: day("2024-09-30"), met: true, value: 7),
        ]
        let findings = try run("2024-12-01", assessments: bad).filter { $0.ruleID == "standards.bad_data" }
        #expect(findings.map(\.subject.id) == ["A/xa-2025/99@2024-09-30", "A/xa-9999/2@2024-09-30", "A/xa-2025/2@2024-09-30"])
        #expect(findings[2].summary.en.contains("criterion 2 is met or not, but has the value 7.0"))
    }

    /// The scan compares each row's unit and set with the row before it: a change of unit or set,
    /// back and forth, is judged again every time.
    @Test func badDataIsJudgedRowByRowWhateverTheOrder() throws {
        let bad = [
            Assessment(unitID: "A", setID: "xa-2025", criterionCode: "99", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "NOPE", setID: "xa-2025", criterionCode: "2", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "NOPE", setID: "xa-2025", criterionCode: "3", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "A", setID: "xa-2025", criterionCode: "2", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "A", setID: "xa-9999", criterionCode: "2", assessedOn: day("2024-09-30"), met: true),
            Assessment(unitID: "A", setID: "xa-2025", criterionCode: "98", assessedOn: day("2024-09-30"), met: true),
        ]
        let findings = try run("2024-12-01", assessments: bad).filter { $0.ruleID == "standards.bad_data" }
        #expect(findings.map(\.subject.id) == ["A/xa-2025/99@2024-09-30", "NOPE/xa-2025/2@2024-09-30", "NOPE/xa-2025/3@2024-09-30",
                                               "A/xa-9999/2@2024-09-30", "A/xa-2025/98@2024-09-30"])
        #expect(findings[1].summary.en.contains("the unit 'NOPE' is not a known unit"))
        #expect(findings[1].subject.unitID == nil && findings[0].subject.unitID == "A")
        #expect(findings[3].summary.en.contains("no criteria set 'xa-9999'"))
        #expect(findings[4].summary.en.contains("the set xa-2025 has no criterion 98"))
    }

    @Test func theDescriptorIsSoundAndBadMarginsAreRefused() {
        let check = StandardsCheck()
        #expect(check.descriptor.problems().isEmpty)
        #expect(throws: SettingsError.self) {
            try check.validate(Settings(specs: check.descriptor.settings, provided: ["margins": .table(["10": .text("a lot")])]))
        }
    }
}
