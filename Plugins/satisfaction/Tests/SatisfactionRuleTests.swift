import CheckKit
import Testing
@testable import SatisfactionCheck

func day(_ text: String) -> CivilDate { CivilDate(text)! }

/// Each rule over plain values.
@Suite struct SatisfactionRuleTests {
    let units: [String: AdministrativeUnit] = [
        "502": AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49"),
        "20104": AdministrativeUnit(id: "20104", name: "Quế An", level: "commune", parentID: "502"),
        "20107": AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", parentID: "502"),
        "20109": AdministrativeUnit(id: "20109", name: "Quế Thuận", level: "commune", parentID: "502"),
        "20131": AdministrativeUnit(id: "20131", name: "Tam Thái", level: "commune", parentID: "514"),
    ]

    func run(_ today: String, _ surveys: [SatisfactionSurvey], recognitions: [Recognition] = [],
             roadmap: [RoadmapEntry] = [], settings: [String: SettingValue] = [:]) throws -> [Finding] {
        let parameters = try SatisfactionCheck.Parameters(Settings(specs: SatisfactionCheck().descriptor.settings, provided: settings))
        return SatisfactionCheck.findings(today: day(today), parameters: parameters, units: units,
                                          standing: Standing(recognitions: recognitions, roadmap: roadmap), surveys: surveys)
    }

    func survey(_ unit: String, _ on: String, _ satisfied: Int, of respondents: Int, kind: String = "ntm_results",
                id: String? = nil) -> SatisfactionSurvey {
        SatisfactionSurvey(id: id ?? "KS-\(unit)-\(on)", unitID: unit, surveyedOn: day(on), kind: kind,
                           respondents: respondents, satisfied: satisfied)
    }

    func rules(_ findings: [Finding]) -> [String] { findings.map(\.ruleID).sorted() }

    @Test func aSmallSampleJustAboveTheThresholdIsNotConclusive() throws {
        let findings = try run("2024-10-01", [survey("20107", "2024-09-20", 37, of: 40)],
                               roadmap: [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2024)])
        #expect(rules(findings) == ["satisfaction.not_conclusive"])
        let finding = try #require(findings.first)
        #expect(finding.values["wilson_lower"].map { if case .percent(let p) = $0 { abs(p - 80.14) < 0.01 } else { false } } == true)
        let needed = try #require(finding.values["respondents_needed"])
        guard case .integer(let n) = needed else { Issue.record("respondents_needed is \(needed)"); return }
        #expect(WilsonInterval(rate: 0.925, trials: Int(n)).lower >= 0.9)
        #expect(finding.summary.vi.contains("92,5% đạt ngưỡng 90% nhưng chỉ với 40 người trả lời"))
    }

    @Test func onlyAUnitNotYetRecognizedIsToldItCannotBeRecognized() throws {
        let quếAn = [survey("20104", "2024-08-15", 170, of: 200)]
        let held = [Recognition(unitID: "20104", tier: "ntm", recognizedOn: day("2024-03-29"))]
        let recognized = try #require(try run("2024-10-01", quếAn, recognitions: held).first)
        #expect(!recognized.summary.vi.contains("không đủ điều kiện công nhận"))
        #expect(recognized.summary.vi.hasSuffix("dưới ngưỡng 90% (chuẩn NTM); đơn vị đã đạt chuẩn nhưng người dân chưa hài lòng: cần rà soát, khắc phục để duy trì chuẩn"))
        let aiming = try #require(try run("2024-10-01", quếAn, roadmap: [RoadmapEntry(unitID: "20104", tier: "ntm", targetYear: 2024)]).first)
        #expect(aiming.summary.vi.hasSuffix("; không đủ điều kiện công nhận"))
        let procedures = try #require(try run("2024-10-01", [survey("20104", "2024-08-15", 170, of: 200, kind: "admin_procedures")],
                                              roadmap: [RoadmapEntry(unitID: "20104", tier: "ntm", targetYear: 2024)]).first)
        #expect(procedures.ruleID == "satisfaction.below_threshold")
        #expect(!procedures.summary.vi.contains("không đủ điều kiện công nhận"))
        #expect(procedures.summary.vi.hasSuffix("cần cải thiện việc giải quyết thủ tục hành chính để người dân hài lòng"))
    }

    @Test func aLargeSampleAboveTheThresholdRaisesNothing() throws {
        #expect(try run("2024-10-01", [survey("20131", "2024-08-30", 313, of: 320)]).isEmpty)
    }

    @Test func belowTheThresholdIsCriticalForARecognizedUnitOrOneDueThisYear() throws {
        let quếAn = [survey("20104", "2024-08-15", 170, of: 200)]
        let recognized = try run("2024-10-01", quếAn, recognitions: [Recognition(unitID: "20104", tier: "ntm", recognizedOn: day("2024-03-29"))])
        #expect(rules(recognized) == ["satisfaction.below_threshold"])
        #expect(recognized.first?.severity == .critical)
        #expect(recognized.first?.values["threshold"] == .percent(90))

        let dueThisYear = try run("2024-10-01", quếAn, roadmap: [RoadmapEntry(unitID: "20104", tier: "ntm", targetYear: 2024)])
        #expect(dueThisYear.first?.severity == .critical)
        let dueLater = try run("2024-10-01", quếAn, roadmap: [RoadmapEntry(unitID: "20104", tier: "ntm", targetYear: 2025)])
        #expect(dueLater.map(\.severity) == [.warning])
        let noStanding = try run("2024-10-01", quếAn)
        #expect(noStanding.map(\.severity) == [.warning])
        #expect(noStanding.first?.values["tier"] == .text("default"))
    }

    @Test func theStrictestThresholdOfTheTiersHeldOrAimedAtApplies() throws {
        let thresholds: SettingValue = .table(["ntm_results": .table(["default": .integer(85), "ntm": .integer(90), "nang_cao": .integer(95)])])
        let tamThái = [survey("20131", "2024-08-30", 940, of: 1000)]   // 94%: conclusive above 90, below 95
        let heldOnly = try run("2024-10-01", tamThái, recognitions: [Recognition(unitID: "20131", tier: "ntm", recognizedOn: day("2019-12-27"))],
                               settings: ["thresholds": thresholds])
        #expect(heldOnly.isEmpty)
        let aiming = try run("2024-10-01", tamThái, recognitions: [Recognition(unitID: "20131", tier: "ntm", recognizedOn: day("2019-12-27"))],
                             roadmap: [RoadmapEntry(unitID: "20131", tier: "nang_cao", targetYear: 2025)], settings: ["thresholds": thresholds])
        #expect(rules(aiming) == ["satisfaction.below_threshold"])
        #expect(aiming.first?.values["threshold"] == .percent(95))
        #expect(aiming.first?.values["tier"] == .text("nang_cao"))
        #expect(aiming.first?.severity == .critical)                     // it holds ntm
    }

    @Test func administrativeProceduresHaveTheirOwnThresholds() throws {
        let thresholds: SettingValue = .table([
            "ntm_results": .table(["default": .integer(90)]),
            "admin_procedures": .table(["default": .integer(80)]),
        ])
        let surveys = [survey("20104", "2024-08-15", 850, of: 1000, kind: "admin_procedures"),
                       survey("20104", "2024-08-15", 850, of: 1000)]
        let findings = try run("2024-10-01", surveys, settings: ["thresholds": thresholds])
        #expect(findings.map(\.ruleID) == ["satisfaction.below_threshold"])
        #expect(findings.first?.labels["survey_kind"] == "ntm_results")
    }

    @Test func aFallOfFivePointsOrMoreSinceThePreviousSurveyOfTheSameKindIsDeclining() throws {
        let findings = try run("2024-10-01", [survey("20109", "2023-09-10", 146, of: 150), survey("20109", "2024-09-12", 1350, of: 1500),
                                              survey("20109", "2024-01-01", 100, of: 100, kind: "admin_procedures")])
        #expect(rules(findings) == ["satisfaction.declining", "satisfaction.not_conclusive"])
        let declining = try #require(findings.first { $0.ruleID == "satisfaction.declining" })
        #expect(declining.summary.vi == "Quế Thuận: tỷ lệ hài lòng (kết quả xây dựng NTM) giảm 7,33 điểm, từ 97,3% (10/09/2023) xuống 90% (12/09/2024)")
        // 4.9 points is not a decline at the default of 5.
        #expect(try run("2024-10-01", [survey("20109", "2023-09-10", 9590, of: 10000), survey("20109", "2024-09-12", 9100, of: 10000)]).isEmpty)
        #expect(rules(try run("2024-10-01", [survey("20109", "2023-09-10", 9590, of: 10000), survey("20109", "2024-09-12", 9100, of: 10000)],
                              settings: ["decline_points": .number(4.5)])) == ["satisfaction.declining"])
    }

    @Test func aUnitDueThisYearOrRecognizedWithoutARecentSurveyIsMissingOne() throws {
        let roadmap = [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2024), RoadmapEntry(unitID: "20109", tier: "ntm", targetYear: 2025)]
        let recognitions = [Recognition(unitID: "20104", tier: "ntm", recognizedOn: day("2024-03-29"))]
        let old = [survey("20104", "2023-09-30", 1900, of: 2000)]
        let findings = try run("2024-10-01", old, recognitions: recognitions, roadmap: roadmap)
        #expect(findings.map(\.ruleID) == ["satisfaction.survey_missing", "satisfaction.survey_missing"])
        #expect(Set(findings.map(\.subject.id)) == ["20104", "20107"])  // Quế Thuận aims at 2025: not yet
        let quếAn = try #require(findings.first { $0.subject.id == "20104" })
        #expect(quếAn.values["last_surveyed_on"] == .date(day("2023-09-30")))
        #expect(quếAn.summary.en.contains("is recognized but has no satisfaction survey"))
        // A survey inside the window settles it; a village is not watched by default.
        #expect(try run("2024-10-01", [survey("20104", "2023-10-02", 1900, of: 2000)], recognitions: recognitions).isEmpty)
    }

    @Test func badRowsAreReportedAndLeftOutOfTheRates() throws {
        let findings = try run("2024-10-01", [
            survey("20104", "2024-08-15", 41, of: 40, id: "KS-1"),
            survey("20104", "2024-08-16", 0, of: 0, id: "KS-2"),
            survey("99999", "2024-08-16", 1, of: 2, id: "KS-3"),
            survey("20104", "2024-08-16", 1, of: 2, kind: "market_prices", id: "KS-4"),
            survey("20104", "2024-08-16", -1, of: 2, id: "KS-5"),
        ])
        #expect(findings.map(\.ruleID) == Array(repeating: "satisfaction.bad_data", count: 5))
        #expect(findings.map(\.subject.id) == ["KS-1", "KS-2", "KS-3", "KS-4", "KS-5"])
        #expect(findings[0].summary.vi == "Khảo sát KS-1 của Quế An: số người hài lòng (41) không nằm trong 0…40 người được hỏi; sửa dòng này trong kho dữ liệu")
    }

    @Test func thresholdsOfTheWrongShapeAreRefusedWithTheKey() {
        let check = SatisfactionCheck()
        for bad: SettingValue in [.table(["ntm_results": .integer(90)]),
                                  .table(["ntm_results": .table(["ntm": .integer(90)])]),
                                  .table(["ntm_results": .table(["default": .integer(120)])])] {
            #expect(throws: SettingsError.self) {
                try check.validate(Settings(specs: check.descriptor.settings, provided: ["thresholds": bad]))
            }
        }
        #expect(check.descriptor.problems().isEmpty)
    }
}
