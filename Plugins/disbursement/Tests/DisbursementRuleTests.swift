import CheckKit
import Testing
@testable import DisbursementCheck

func day(_ text: String) -> CivilDate { CivilDate(text)! }

/// Each rule over plain values, and its boundaries.
@Suite struct DisbursementRuleTests {
    let units: [String: AdministrativeUnit] = [
        "502": AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49"),
        "20103": AdministrativeUnit(id: "20103", name: "Tiên Lãnh", level: "commune", parentID: "503"),
        "20109": AdministrativeUnit(id: "20109", name: "Quế Thuận", level: "commune", parentID: "504"),
    ]

    func run(_ today: String, _ plans: [CapitalPlan], reports: [ReallocationReport] = [],
             settings: [String: SettingValue] = [:]) throws -> [Finding] {
        let parameters = try DisbursementCheck.Parameters(Settings(specs: DisbursementCheck().descriptor.settings, provided: settings))
        return DisbursementCheck.findings(today: day(today), parameters: parameters, units: units, projects: [:],
                                          plans: plans, reports: reports)
    }

    func plan(_ id: String, unit: String = "20103", year: Int = 2024, assigned: Int64 = 1_000_000_000,
              carriedFrom: Int? = nil, due: String? = nil, _ disbursed: [(String, Int64)] = []) -> CapitalPlan {
        CapitalPlan(id: id, unitID: unit, year: year, source: .central, assignedVND: assigned, carriedOverFrom: carriedFrom,
                    dueOn: due.map(day), disbursed: disbursed.map { .init(on: day($0.0), cumulativeVND: $0.1) })
    }

    func rules(_ findings: [Finding]) -> [String] { findings.map(\.ruleID).sorted() }

    @Test func zeroAtMidyearIsAWarningFromTheFifteenthAndCriticalFromTheThirtiethOfJune() throws {
        let idle = [plan("P", [("2024-06-28", 0)])]
        #expect(try run("2024-06-14", idle).isEmpty)
        #expect(try run("2024-06-15", idle).map(\.severity) == [.warning])
        let midyear = try run("2024-06-30", idle)
        #expect(rules(midyear) == ["disbursement.behind_schedule", "disbursement.zero_at_midyear"])
        #expect(midyear.first { $0.ruleID == "disbursement.zero_at_midyear" }?.severity == .critical)
        // One đồng disbursed is not zero; last year's plan is not this year's.
        #expect(!rules(try run("2024-06-30", [plan("P", [("2024-06-28", 1)])])).contains("disbursement.zero_at_midyear"))
        #expect(try run("2024-06-30", [plan("P", year: 2023)]).isEmpty)
    }

    @Test func behindScheduleFollowsTheMilestonesWithAProjectionToYearEnd() throws {
        let slow = [plan("P", [("2024-06-28", 200_000_000)])]
        #expect(try run("2024-06-29", slow).isEmpty)                       // no milestone reached yet
        let findings = try run("2024-06-30", slow)
        let behind = try #require(findings.first)
        #expect(behind.values["required_percent"] == .percent(50))
        #expect(behind.values["disbursed_percent"] == .percent(20))
        // "50% vốn năm 2024 trước ngày 30/6/2024" (002 §IV.7): due before the day, not "by" it.
        #expect(behind.summary.vi.contains("yêu cầu 50% trước ngày 30/06/2024"))
        // 20% over the 182 days from 1/1 to 30/6, carried on to 366 days.
        guard case .percent(let projected)? = behind.values["projected_percent"] else { Issue.record("no projection"); return }
        #expect(abs(projected - 20 * 366 / 182) < 0.001)
        #expect(try run("2024-06-30", [plan("P", [("2024-06-28", 500_000_000)])]).isEmpty)   // exactly 50%
        let december = try run("2024-12-31", [plan("P", [("2024-12-20", 990_000_000)])])
        #expect(december.first?.values["required_percent"] == .percent(100))
        let custom = try run("2024-03-31", slow, settings: ["milestones": .table(["03-31": .integer(25), "12-31": .integer(100)])])
        #expect(custom.first?.values["required_percent"] == .percent(25))    // nothing recorded by 31/3
    }

    @Test func carriedOverCapitalIsDueInFullByItsOwnDate() throws {
        let carried = [plan("CO", unit: "502", assigned: 1_500_000_000, carriedFrom: 2023, due: "2024-08-31",
                            [("2024-06-28", 600_000_000), ("2024-08-30", 1_050_000_000)])]
        #expect(try run("2024-06-30", carried).isEmpty)                     // not held to the 50% curve
        #expect(try run("2024-08-31", carried).isEmpty)                     // the last day
        let late = try run("2024-09-01", carried)
        #expect(late.map(\.ruleID) == ["disbursement.behind_schedule"])
        #expect(late.first?.severity == .critical)
        #expect(late.first?.values["disbursed_percent"] == .percent(70))
        #expect(late.first?.summary.vi.contains("yêu cầu 100% trước ngày 01/09/2024") == true)   // "trước tháng 9/2024"
    }

    @Test func aUnitProjectedBelowFullMustReportByTheTenthOfOctober() throws {
        let plans = [plan("TL", [("2024-09-30", 0)]), plan("QT", unit: "20109", assigned: 600_000_000, [("2024-09-30", 300_000_000)])]
        #expect(try run("2024-09-30", plans).filter { $0.ruleID == "disbursement.reallocation_report_due" }.isEmpty)
        let october = try run("2024-10-01", plans).filter { $0.ruleID == "disbursement.reallocation_report_due" }
        #expect(october.map(\.subject.id) == ["20103", "20109"])
        #expect(october.allSatisfy { $0.severity == .warning })
        let late = try run("2024-10-10", plans).filter { $0.ruleID == "disbursement.reallocation_report_due" }
        #expect(late.allSatisfy { $0.severity == .critical })
        let filed = try run("2024-10-10", plans, reports: [ReallocationReport(unitID: "20109", year: 2024, filedOn: day("2024-10-08"))])
        #expect(filed.filter { $0.ruleID == "disbursement.reallocation_report_due" }.map(\.subject.id) == ["20103"])
        // On pace for 100%: no report needed.
        #expect(try run("2024-10-01", [plan("OK", [("2024-09-30", 760_000_000)])]).isEmpty)
    }

    @Test func programmeCapitalNotPaidOutByTheCloseout() throws {
        let plans = [plan("P", [("2025-05-30", 400_000_000)]), plan("Later", year: 2026, [("2026-01-30", 0)])]
        #expect(try run("2025-06-02", plans).filter { $0.ruleID == "disbursement.programme_closeout" }.isEmpty)
        let warned = try run("2025-06-03", plans).filter { $0.ruleID == "disbursement.programme_closeout" }
        #expect(warned.map(\.severity) == [.warning])
        #expect(warned.first?.values["remaining_vnd"] == .amountVND(600_000_000))
        #expect(try run("2025-09-01", plans).filter { $0.ruleID == "disbursement.programme_closeout" }.map(\.severity) == [.critical])
        #expect(try run("2025-09-01", [plan("Done", [("2025-08-30", 1_000_000_000)])]).isEmpty)
    }

    @Test func badPlansAreReportedAndTheOthersStillChecked() throws {
        let findings = try run("2024-06-30", [
            plan("ZERO", assigned: 0),
            plan("DOWN", [("2024-03-01", 500), ("2024-04-01", 400)]),
            plan("OVER", assigned: 100, [("2024-03-01", 200)]),
            plan("UNIT", unit: "99999"),
            plan("OK", [("2024-06-28", 0)]),
        ])
        #expect(findings.filter { $0.ruleID == "disbursement.bad_data" }.map(\.subject.id) == ["ZERO", "DOWN", "OVER", "UNIT"])
        #expect(Set(findings.filter { $0.ruleID != "disbursement.bad_data" }.map(\.subject.id)) == ["OK"])
    }

    @Test func settingsThatContradictEachOtherAreRefused() {
        let check = DisbursementCheck()
        for bad: [String: SettingValue] in [["milestones": .table(["13-01": .integer(50)])],
                                            ["milestones": .table(["06-30": .integer(150)])],
                                            ["zero_warning_from": .text("07-15")],
                                            ["report_from": .text("10-20")],
                                            ["programme": .text("2025")]] {
            #expect(throws: SettingsError.self) { try check.validate(Settings(specs: check.descriptor.settings, provided: bad)) }
        }
        #expect(check.descriptor.problems().isEmpty)
    }
}
