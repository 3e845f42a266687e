import CheckKit
import Testing
@testable import TargetsCheck

/// Readings on several days share work (issue 21): territories per stretch of unchanged map,
/// a commune's criteria count per number of its assessments a day includes. Each reading must
/// still be the day's own, whatever was read before it.
@Suite struct IndicatorsMemoTests {
    /// District D1 under the province; C1 moves from D1 to D2 on 2024-07-01; C2 begins on
    /// 2024-03-01; C3 merges into C4, effective 2025-01-01 (it ends 2024-12-31); D2 begins with C1.
    static let units: [String: AdministrativeUnit] = [
        "P": AdministrativeUnit(id: "P", name: "Tỉnh", level: "province"),
        "D1": AdministrativeUnit(id: "D1", name: "Huyện 1", level: "district", parentID: "P"),
        "D2": AdministrativeUnit(id: "D2", name: "Huyện 2", level: "district", parentID: "P", validFrom: day("2024-07-01")),
        "C1": AdministrativeUnit(id: "C1", name: "Xã 1", level: "commune", parents: [
            ParentLink(parentID: "D1", validTo: day("2024-06-30")), ParentLink(parentID: "D2", validFrom: day("2024-07-01")),
        ]),
        "C2": AdministrativeUnit(id: "C2", name: "Xã 2", level: "commune", parentID: "D1", validFrom: day("2024-03-01")),
        "C3": AdministrativeUnit(id: "C3", name: "Xã 3", level: "commune", parentID: "D1", validTo: day("2024-12-31"), successions: [
            Succession(predecessorID: "C3", successorID: "C4", effectiveOn: day("2025-01-01"), kind: .merge),
        ]),
        "C4": AdministrativeUnit(id: "C4", name: "Xã 4", level: "commune", parentID: "D1"),
    ]
    static let set = CriteriaSet(id: "S", name: LocalizedText(vi: "Bộ", en: "Set"), unitLevel: "commune", tier: "ntm",
                                 validFrom: day("2022-01-01"), criteria: [
                                     Criterion(code: "1", name: LocalizedText(vi: "Một", en: "One"), measure: .boolean),
                                     Criterion(code: "2", name: LocalizedText(vi: "Hai", en: "Two"), measure: .boolean),
                                 ])

    func communes(_ indicators: Indicators, _ scope: String?, _ text: String) -> [String]? {
        indicators.territory(scope, on: day(text))?.communes.map(\.id)
    }

    @Test func aTerritoryIsTheDaysOwnOnEitherSideOfEveryChange() {
        let indicators = Indicators(units: Self.units, sets: [], assessments: [], recognitions: [], minimumCriteria: 2)
        // Read late first, so that a territory kept for the wrong days would show on the earlier ones.
        #expect(communes(indicators, "D1", "2025-06-01") == ["C2", "C4"])
        #expect(communes(indicators, "D1", "2024-12-31") == ["C2", "C3", "C4"])
        #expect(communes(indicators, "D1", "2024-06-30") == ["C1", "C2", "C3", "C4"])
        #expect(communes(indicators, "D1", "2024-07-01") == ["C2", "C3", "C4"])
        #expect(communes(indicators, "D1", "2024-02-29") == ["C1", "C3", "C4"])
        #expect(communes(indicators, "D1", "2024-03-01") == ["C1", "C2", "C3", "C4"])
        #expect(communes(indicators, "D2", "2024-06-30") == nil)
        #expect(communes(indicators, "D2", "2025-06-01") == ["C1"])
        // The merged commune's scope is its heir's from the merger on.
        #expect(communes(indicators, "C3", "2024-12-31") == [])
        #expect(indicators.territory("C3", on: day("2025-01-01"))?.units.map(\.id) == [])
        #expect(communes(indicators, nil, "2024-02-29") == ["C1", "C3", "C4"])
        #expect(communes(indicators, nil, "2025-01-01") == ["C1", "C2", "C4"])
    }

    @Test func theAverageCountsEachDaysOwnAssessments() throws {
        func assessed(_ unit: String, _ code: String, _ on: String, _ met: Bool) -> Assessment {
            Assessment(unitID: unit, setID: "S", criterionCode: code, assessedOn: day(on), met: met)
        }
        // C4 meets one criterion from 2023, both from 2025-03-01; C1 both from 2023.
        let assessments = [assessed("C4", "1", "2023-05-01", true), assessed("C4", "2", "2023-05-01", false),
                           assessed("C1", "1", "2023-05-01", true), assessed("C1", "2", "2023-05-01", true),
                           assessed("C4", "2", "2025-03-01", true)]
        let indicators = Indicators(units: Self.units, sets: [Self.set], assessments: assessments, recognitions: [], minimumCriteria: 2)
        func average(_ text: String) throws -> Double {
            try #require(indicators.reading("average_criteria_per_commune", on: day(text), scope: "P")).value
        }
        #expect(try average("2025-06-01") == 2)
        #expect(try average("2025-02-28") == 1.5)
        #expect(try average("2025-03-01") == 2)
        #expect(try average("2024-06-01") == 1.5)
        #expect(indicators.reading("average_criteria_per_commune", on: day("2023-04-30"), scope: "P") == nil)
        let below = try #require(indicators.reading("communes_below_15", on: day("2025-02-28"), scope: "P"))
        #expect(below.count == 1 && below.population == 2)
    }
}
