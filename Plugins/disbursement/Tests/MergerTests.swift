import CheckKit
import Testing
@testable import DisbursementCheck

/// Plans and reports of a merged commune are its heir's after the merger.
@Suite struct DisbursementMergerTests {
    let units: [String: AdministrativeUnit] = [
        "20107": AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", validTo: day("2024-06-30"), successorID: "20108"),
        "20108": AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune"),
    ]

    func run(_ today: String, reports: [ReallocationReport] = []) throws -> [Finding] {
        let parameters = try DisbursementCheck.Parameters(Settings(specs: DisbursementCheck().descriptor.settings, provided: [:]))
        let plans = ["20107", "20108"].map {
            CapitalPlan(id: "KH-\($0)", unitID: $0, year: 2024, source: .central, assignedVND: 1_000_000_000,
                        disbursed: [.init(on: day("2024-09-30"), cumulativeVND: 100_000_000)])
        }
        return DisbursementCheck.findings(today: day(today), parameters: parameters, units: units, projects: [:],
                                              plans: plans, reports: reports)
            .filter { $0.ruleID == "disbursement.reallocation_report_due" }
    }

    @Test func theHeirReportsOnceForTheMergedTerritory() throws {
        let due = try run("2024-10-05")
        #expect(due.map(\.subject.id) == ["20108"])
        #expect(due.first?.values["plans"] == .list(["KH-20107", "KH-20108"]))
        // A report the old commune filed counts for its heir.
        #expect(try run("2024-10-05", reports: [ReallocationReport(unitID: "20107", year: 2024, filedOn: day("2024-10-02"))]).isEmpty)
    }
}
