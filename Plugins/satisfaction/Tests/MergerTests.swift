import CheckKit
import Testing
@testable import SatisfactionCheck

/// A merged commune's surveys are its own history; after the merger they are judged no more.
@Suite struct SatisfactionMergerTests {
    func run(_ today: String) throws -> [Finding] {
        let units: [String: AdministrativeUnit] = [
            "20107": AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune",
                                        validTo: CivilDate(today)! > day("2025-06-30") ? day("2025-06-30") : nil,
                                        successorID: CivilDate(today)! > day("2025-06-30") ? "20108" : nil),
            "20108": AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune"),
        ]
        let parameters = try SatisfactionCheck.Parameters(Settings(specs: SatisfactionCheck().descriptor.settings, provided: [:]))
        let map = UnitMap(units)
        let roadmap = map.roadmap([RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2025)], on: day(today))
        return SatisfactionCheck.findings(
            today: day(today), parameters: parameters, units: units,
            standing: Standing(recognitions: [], roadmap: roadmap),
            surveys: [SatisfactionSurvey(id: "KS-DC", unitID: "20107", surveyedOn: day("2025-03-01"), kind: "ntm_results",
                                         respondents: 200, satisfied: 150)])
    }

    @Test func beforeTheMergerTheOldCommuneAfterItTheHeirWhichMustSurveyItsResidents() throws {
        let before = try run("2025-06-30")
        #expect(before.contains { $0.ruleID == "satisfaction.below_threshold" && $0.subject.id == "20107" })
        let after = try run("2025-07-01")
        #expect(!after.contains { $0.subject.id == "20107" })
        #expect(after.contains { $0.ruleID == "satisfaction.survey_missing" && $0.subject.id == "20108" })
    }
}
