import CheckKit
import Testing
@testable import TargetsCheck

/// Issue 21: `holds` scanned every recognition for every unit, so a national store (10,000
/// communes, as many recognitions) took seconds in this module alone.
@Suite struct IndicatorsScaleTests {
    @Test func sharesOfANationalStoreTakeTimeLinearInItsRecognitions() throws {
        let count = 20_000
        var units: [String: AdministrativeUnit] = ["P": AdministrativeUnit(id: "P", name: "Tỉnh", level: "province", parentID: nil)]
        var recognitions: [Recognition] = []
        for i in 0..<count {
            units["C\(i)"] = AdministrativeUnit(id: "C\(i)", name: "Xã \(i)", level: "commune", parentID: "P")
            recognitions.append(Recognition(unitID: "C\(i)", tier: i % 4 == 0 ? "nang_cao" : "ntm", recognizedOn: day("2024-06-01")))
        }
        let indicators = Indicators(units: units, sets: [], assessments: [], recognitions: recognitions, minimumCriteria: 15)
        let clock = ContinuousClock()
        let start = clock.now
        let ntm = try #require(indicators.reading("share_recognized_ntm", on: day("2025-01-01")))
        let advanced = try #require(indicators.reading("share_recognized_nang_cao", on: day("2025-01-01")))
        let elapsed = clock.now - start
        #expect(ntm.count == count * 3 / 4 && ntm.population == count)
        #expect(advanced.count == count / 4 && advanced.population == count)
        // Linear: about 2 s for the whole test in a debug build; the scan per unit ran over ten minutes.
        #expect(elapsed < .seconds(30), "two readings over \(count) communes took \(elapsed)")
    }
}
