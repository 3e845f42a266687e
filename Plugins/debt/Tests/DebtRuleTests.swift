import CheckKit
import Testing
@testable import DebtCheck

func day(_ text: String) -> CivilDate { CivilDate(text)! }

/// Each rule over plain values, and its boundaries.
@Suite struct DebtRuleTests {
    let units: [String: AdministrativeUnit] = [
        "20104": AdministrativeUnit(id: "20104", name: "Quế An", level: "commune", parentID: "502"),
        "20107": AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", parentID: "502"),
        "20108": AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune", parentID: "502"),
    ]

    func run(_ today: String, _ projects: [Project], recognitions: [Recognition] = [], roadmap: [RoadmapEntry] = [],
             settings: [String: SettingValue] = [:]) throws -> [Finding] {
        let parameters = try DebtCheck.Parameters(Settings(specs: DebtCheck().descriptor.settings, provided: settings))
        return DebtCheck.findings(today: day(today), parameters: parameters, units: units,
                                  standing: Standing(recognitions: recognitions, roadmap: roadmap), projects: projects)
    }

    func project(_ id: String, unit: String = "20104", allocated: String? = "2019-05-10", settled: String? = "2020-12-01",
                 shares: [BudgetLevel: Int64] = [.central: 600, .provincial: 300, .commune: 100],
                 debts: [Project.Debt] = [], disbursements: [Project.Disbursement] = [],
                 plan: Project.RepaymentPlan? = nil, total: Int64? = nil) -> Project {
        Project(id: id, name: "Công trình \(id)", communeID: unit, allocatedOn: allocated.map(day),
                totalVND: total ?? shares.values.reduce(0, +), shares: shares,
                settlementApprovedOn: settled.map(day), disbursements: disbursements, debts: debts, repaymentPlan: plan)
    }

    func debt(_ level: BudgetLevel, _ period: String, _ on: String, _ amount: Int64) -> Project.Debt {
        Project.Debt(budgetLevel: level, period: period, asOf: day(on), outstandingVND: amount)
    }

    func rules(_ findings: [Finding]) -> [String] { findings.map(\.ruleID).sorted() }

    let recognizedQueAn = [Recognition(unitID: "20104", tier: "ntm", recognizedOn: day("2024-03-29"))]

    @Test func aRecognizedUnitWithDebtIsCriticalWithoutARepaymentPlanAndAWarningWithOne() throws {
        let owed = [debt(.commune, "2021-2025", "2024-09-30", 900_000_000), debt(.district, "2021-2025", "2024-09-30", 300_000_000)]
        let findings = try run("2024-10-01", [project("P1", debts: owed)], recognitions: recognizedQueAn)
        let finding = try #require(findings.first { $0.ruleID == "debt.recognized_unit_has_debt" })
        #expect(finding.severity == .critical)
        #expect(finding.values["debt_vnd"] == .amountVND(1_200_000_000))
        #expect(finding.values["debt_commune_vnd"] == .amountVND(900_000_000))
        #expect(finding.summary.vi.contains("còn nợ đọng XDCB 1.200.000.000 đ (huyện 300.000.000 đ, xã 900.000.000 đ)"))
        #expect(finding.summary.vi.contains("có thể bị thu hồi Quyết định công nhận"))

        let planned = try run("2024-10-01", [project("P1", debts: owed, plan: .init(amountVND: 1_200_000_000))], recognitions: recognizedQueAn)
        #expect(planned.first { $0.ruleID == "debt.recognized_unit_has_debt" }?.severity == .warning)
    }

    @Test func aUnitAimingAtRecognitionThisYearOrNextIsWatchedLaterOnesAreNot() throws {
        let owed = [project("P1", unit: "20107", debts: [debt(.commune, "2021-2025", "2024-03-31", 300_000_000)])]
        let next = try run("2024-10-01", owed, roadmap: [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2025)])
        #expect(rules(next) == ["debt.recognized_unit_has_debt"])
        #expect(next.first?.summary.vi.contains("không đủ điều kiện công nhận") == true)
        #expect(try run("2024-10-01", owed, roadmap: [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2026)]).isEmpty)
        // A debt paid down to 0 VND is no debt.
        let paid = [project("P1", unit: "20107", debts: [debt(.commune, "2021-2025", "2024-03-31", 300_000_000),
                                                           debt(.commune, "2021-2025", "2024-09-30", 0)])]
        #expect(try run("2024-10-01", paid, roadmap: [RoadmapEntry(unitID: "20107", tier: "ntm", targetYear: 2024)]).isEmpty)
    }

    @Test func legacyDebtIsAWarningInTheWindowAndCriticalFromTheCutoff() throws {
        let legacy = [project("P1", debts: [debt(.district, "2016-2020", "2023-12-31", 200_000_000)])]
        #expect(try run("2024-03-02", legacy).isEmpty)                                   // 91 days before
        #expect(try run("2024-03-03", legacy).map(\.severity) == [.warning])             // 90 days before
        let lastDay = try run("2024-05-31", legacy)
        #expect(lastDay.map(\.severity) == [.warning])
        #expect(lastDay.first?.values["days_left"] == .integer(0))
        let june5 = try run("2024-06-05", legacy)
        #expect(rules(june5) == ["debt.legacy_period_outstanding"])
        #expect(june5.first?.severity == .critical)
        #expect(june5.first?.values["days_overdue"] == .integer(5))
        // 2021-2025 debt is not legacy.
        #expect(try run("2024-06-05", [project("P1", debts: [debt(.district, "2021-2025", "2023-12-31", 200_000_000)])]).isEmpty)
    }

    @Test func debtThatGrewSinceThePreviousSnapshotIsNewDebt() throws {
        let growing = [project("P1", unit: "20107", debts: [debt(.commune, "2021-2025", "2024-03-31", 300_000_000),
                                                             debt(.commune, "2021-2025", "2024-09-30", 450_000_000)])]
        #expect(try run("2024-06-30", growing).isEmpty)
        let findings = try run("2024-10-15", growing)
        #expect(rules(findings) == ["debt.new_debt"])
        #expect(findings.first?.values["increase_vnd"] == .amountVND(150_000_000))
        #expect(findings.first?.summary.vi == "Đại Chánh: nợ đọng XDCB tăng 150.000.000 đ, từ 300.000.000 đ (31/03/2024) lên 450.000.000 đ (30/09/2024); không được để phát sinh nợ mới")
        // A second project's first debt is new debt of the unit too; a flat total is not.
        let flat = [project("P1", unit: "20107", debts: [debt(.commune, "2021-2025", "2024-03-31", 300_000_000),
                                                          debt(.commune, "2021-2025", "2024-09-30", 300_000_000)])]
        #expect(try run("2024-10-15", flat).isEmpty)
        let second = flat + [project("P2", unit: "20107", debts: [debt(.commune, "2021-2025", "2024-09-30", 1)])]
        #expect(rules(try run("2024-10-15", second)) == ["debt.new_debt"])
    }

    @Test func settlementIsWarnedNinetyDaysBeforeTheThreeYearMarkAndCriticalOnlyAfterIt() throws {
        let open = [project("P1", allocated: "2021-03-15", settled: nil)]
        #expect(try run("2023-12-15", open).isEmpty)
        let warned = try run("2023-12-16", open)
        #expect(warned.map(\.severity) == [.warning])
        #expect(warned.first?.values["mark_date"] == .date(day("2024-03-15")))
        #expect(try run("2024-03-14", open).map(\.severity) == [.warning])
        // "quá 03 năm": on the mark itself three years have passed, not more.
        #expect(try run("2024-03-15", open).map(\.severity) == [.warning])
        let critical = try run("2024-03-16", open)
        #expect(critical.map(\.severity) == [.critical])
        #expect(critical.first?.values["days_overdue"] == .integer(1))
        // Settled projects are done.
        #expect(try run("2024-03-16", [project("P1", allocated: "2021-03-15", settled: "2024-03-01")]).isEmpty)
    }

    @Test func whatShiftsIsTheUpperBudgetsDebtNotTheirWholeShare() throws {
        // Shares: central 600, provincial 300, commune 100; still owed: central 200, commune 50.
        let owed = [debt(.central, "2021-2025", "2024-01-31", 200), debt(.commune, "2021-2025", "2024-01-31", 50)]
        let finding = try #require(try run("2024-03-16", [project("P1", allocated: "2021-03-15", settled: nil, debts: owed)])
            .first { $0.ruleID == "debt.settlement_overdue" })
        #expect(finding.values["upper_debt_vnd"] == .amountVND(200))
        #expect(finding.values["upper_share_vnd"] == nil)
        #expect(finding.summary.vi == "Công trình P1: phân bổ vốn ngày 15/03/2021, chưa phê duyệt quyết toán; đã quá 03 năm từ ngày 15/03/2024: phần nợ ngân sách trung ương/ngân sách tỉnh 200 đ chuyển sang nợ ngân sách địa phương, UBND cấp huyện, xã bố trí thay; công trình không được bố trí thêm vốn trung ương, tỉnh")
    }

    @Test func aTwentyNinthOfFebruaryAllocationReachesItsMarkOnTheTwentyEighth() throws {
        let leap = [project("P1", allocated: "2024-02-29", settled: nil)]
        #expect(try run("2027-02-27", leap).map(\.severity) == [.warning])
        let mark = try run("2027-02-28", leap)
        #expect(mark.map(\.severity) == [.warning])
        #expect(mark.first?.values["mark_date"] == .date(day("2027-02-28")))
        #expect(try run("2027-03-01", leap).map(\.severity) == [.critical])
        #expect(try run("2027-03-01", leap, settings: ["settlement_years": .integer(4)]).isEmpty)   // 29/2/2028
    }

    @Test func upperMoneyPaidAfterTheMarkWithoutASettlementIsReported() throws {
        let paid: [Project.Disbursement] = [
            .init(budgetLevel: .central, on: day("2024-02-28"), cumulativeVND: 400),
            .init(budgetLevel: .commune, on: day("2024-02-28"), cumulativeVND: 100),
            .init(budgetLevel: .central, on: day("2024-03-15"), cumulativeVND: 450),   // on the mark: allowed
            .init(budgetLevel: .provincial, on: day("2024-09-30"), cumulativeVND: 300),
        ]
        let open = [project("P1", allocated: "2021-03-15", settled: nil, disbursements: paid)]
        #expect(try run("2024-09-29", open).filter { $0.ruleID == "debt.upper_money_after_mark" }.isEmpty)
        let finding = try #require(try run("2024-10-01", open).first { $0.ruleID == "debt.upper_money_after_mark" })
        #expect(finding.severity == .critical)
        #expect(finding.values["after_mark_vnd"] == .amountVND(300))
        #expect(finding.values["last_paid_on"] == .date(day("2024-09-30")))
        // Paid after the settlement was approved: allowed.
        let settled = [project("P1", allocated: "2021-03-15", settled: "2024-06-01", disbursements: paid)]
        #expect(try run("2024-10-01", settled).filter { $0.ruleID == "debt.upper_money_after_mark" }.isEmpty)
    }

    @Test func worksHandedOverAndNotSettledAreReportedAfterTheConfiguredDays() throws {
        func handedOver(_ settled: String?) -> Project {
            Project(id: "P1", name: "Công trình P1", communeID: "20104", allocatedOn: day("2023-01-10"), totalVND: 1_000,
                    shares: [.central: 1_000], handoverOn: day("2024-01-20"), settlementApprovedOn: settled.map(day),
                    disbursements: [], debts: [], repaymentPlan: nil)
        }
        #expect(try run("2024-07-17", [handedOver(nil)]).isEmpty)                       // 179 days
        let finding = try #require(try run("2024-07-18", [handedOver(nil)]).first)      // 180 days
        #expect(finding.ruleID == "debt.handover_unsettled")
        #expect(finding.summary.vi.contains("đã bàn giao đưa vào sử dụng ngày 20/01/2024 (180 ngày trước)"))
        #expect(try run("2024-07-18", [handedOver("2024-07-01")]).isEmpty)
        #expect(try run("2024-02-01", [handedOver(nil)], settings: ["handover_settlement_days": .integer(10)]).count == 1)
    }

    @Test func upperBudgetsAheadOfTheCounterpartProportionAreBlocked() throws {
        let shares: [BudgetLevel: Int64] = [.central: 2_000_000_000, .provincial: 1_000_000_000, .commune: 1_000_000_000]
        let paid: [Project.Disbursement] = [
            .init(budgetLevel: .central, on: day("2024-09-30"), cumulativeVND: 1_600_000_000),
            .init(budgetLevel: .provincial, on: day("2024-09-30"), cumulativeVND: 800_000_000),
            .init(budgetLevel: .commune, on: day("2024-09-30"), cumulativeVND: 200_000_000),
        ]
        let findings = try run("2024-10-01", [project("DT", unit: "20108", allocated: "2024-02-26", settled: nil, shares: shares, disbursements: paid)])
        let lagging = try #require(findings.first { $0.ruleID == "debt.counterpart_lagging" })
        #expect(lagging.values["allowed_upper_vnd"] == .amountVND(600_000_000))
        #expect(lagging.values["blocked_vnd"] == .amountVND(1_800_000_000))
        // In proportion: nothing to report; a tolerance absorbs rounding.
        let even: [Project.Disbursement] = [
            .init(budgetLevel: .central, on: day("2024-09-30"), cumulativeVND: 400_000_000),
            .init(budgetLevel: .commune, on: day("2024-09-30"), cumulativeVND: 200_000_000),
        ]
        #expect(try run("2024-10-01", [project("DT", unit: "20108", allocated: "2024-02-26", settled: nil, shares: shares, disbursements: even)])
            .filter { $0.ruleID == "debt.counterpart_lagging" }.isEmpty)
        // Residents' contributions are not the district and commune counterpart.
        let residentsPaid: [Project.Disbursement] = [
            .init(budgetLevel: .central, on: day("2024-09-30"), cumulativeVND: 500),
            .init(budgetLevel: .residents, on: day("2024-09-30"), cumulativeVND: 500),
        ]
        let withResidents = try run("2024-10-01", [project("DT", unit: "20108", allocated: "2024-02-26", settled: nil,
                                                           shares: [.central: 1_000, .commune: 500, .residents: 500], disbursements: residentsPaid)])
        let residents = try #require(withResidents.first { $0.ruleID == "debt.counterpart_lagging" })
        #expect(residents.values["local_share_vnd"] == .amountVND(500))
        #expect(residents.values["blocked_vnd"] == .amountVND(500))
        // No counterpart share: nothing to lag.
        #expect(try run("2024-10-01", [project("DT", unit: "20108", allocated: "2024-02-26", settled: nil,
                                               shares: [.central: 100], disbursements: [.init(budgetLevel: .central, on: day("2024-09-30"), cumulativeVND: 100)])]).isEmpty)
    }

    @Test func badProjectsAreReportedAndTheOthersStillChecked() throws {
        let findings = try run("2024-06-05", [
            project("NEG", shares: [.central: -5]),
            project("SUM", total: 2_000),
            project("ORDER", allocated: "2024-05-01", settled: "2023-05-01"),
            project("UNIT", unit: "99999"),
            project("OK", debts: [debt(.district, "2016-2020", "2023-12-31", 1)]),
        ])
        #expect(findings.filter { $0.ruleID == "debt.bad_data" }.map(\.subject.id) == ["NEG", "SUM", "ORDER", "UNIT"])
        #expect(findings.filter { $0.ruleID != "debt.bad_data" }.map(\.subject.id) == ["OK"])
        let sum = try #require(findings.first { $0.subject.id == "SUM" })
        #expect(sum.summary.vi.contains("tổng các nguồn vốn (1.000 đ) khác tổng mức (2.000 đ)"))
    }

    @Test func theDescriptorIsSound() {
        #expect(DebtCheck().descriptor.problems().isEmpty)
    }
}
