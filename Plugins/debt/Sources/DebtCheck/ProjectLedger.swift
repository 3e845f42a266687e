import CheckKit

/// A project's money as of one day: what is still owed per budget level and period, and what each
/// budget level has paid out. Snapshots are cumulative, so the latest one per key is the figure.
struct ProjectLedger {
    let project: Project
    /// ``outstanding(on:)`` the evaluation day, worked out once: three rules and the commune's
    /// total read it for every project of a national store (issue 21).
    let owedToday: [DebtKey: Int64]

    init(project: Project, today: CivilDate) {
        self.project = project
        owedToday = Self.outstanding(project, on: today)
    }

    /// The latest outstanding amount per budget level and period, on or before `day`.
    func outstanding(on day: CivilDate) -> [DebtKey: Int64] { Self.outstanding(project, on: day) }

    private static func outstanding(_ project: Project, on day: CivilDate) -> [DebtKey: Int64] {
        var latest: [DebtKey: Project.Debt] = [:]
        for debt in project.debts where debt.asOf <= day {
            let key = DebtKey(level: debt.budgetLevel, period: debt.period)
            if let known = latest[key], known.asOf > debt.asOf { continue }
            latest[key] = debt
        }
        return latest.mapValues(\.outstandingVND)
    }

    /// The days on which a debt snapshot was taken, oldest first.
    var snapshotDays: [CivilDate] { Array(Set(project.debts.map(\.asOf))).sorted() }

    /// Cumulative disbursement per budget level, latest on or before `day`.
    func disbursed(on day: CivilDate) -> [BudgetLevel: Int64] {
        var latest: [BudgetLevel: Project.Disbursement] = [:]
        for entry in project.disbursements where entry.on <= day {
            if let known = latest[entry.budgetLevel], known.on > entry.on { continue }
            latest[entry.budgetLevel] = entry
        }
        return latest.mapValues(\.cumulativeVND)
    }

    /// The problems that make the project's figures unusable, in Vietnamese and English.
    static func problems(of project: Project) -> [LocalizedText] {
        var problems: [LocalizedText] = []
        if project.totalVND < 0 || project.shares.values.contains(where: { $0 < 0 }) {
            problems.append(LocalizedText(vi: "có số tiền âm trong tổng mức hoặc các nguồn vốn", en: "a negative total or budget share"))
        }
        let shares = project.shares.values.reduce(0, +)
        if shares != project.totalVND {
            problems.append(LocalizedText(
                vi: "tổng các nguồn vốn (\(Value.amountVND(shares).formatted(in: .vi))) khác tổng mức (\(Value.amountVND(project.totalVND).formatted(in: .vi)))",
                en: "the budget shares add up to \(Value.amountVND(shares).formatted(in: .en)), not the total \(Value.amountVND(project.totalVND).formatted(in: .en))"))
        }
        if let allocated = project.allocatedOn, let settled = project.settlementApprovedOn, settled < allocated {
            problems.append(LocalizedText(vi: "phê duyệt quyết toán (\(settled.vietnamese)) trước ngày phân bổ vốn (\(allocated.vietnamese))",
                                          en: "the settlement (\(settled)) is approved before the allocation (\(allocated))"))
        }
        if project.debts.contains(where: { $0.outstandingVND < 0 }) || project.disbursements.contains(where: { $0.cumulativeVND < 0 }) {
            problems.append(LocalizedText(vi: "có số nợ hoặc số giải ngân âm", en: "a negative debt or disbursement"))
        }
        return problems
    }
}

struct DebtKey: Hashable, Comparable {
    let level: BudgetLevel
    let period: String

    static func < (lhs: DebtKey, rhs: DebtKey) -> Bool {
        (lhs.period, BudgetLevel.allCases.firstIndex(of: lhs.level)!) < (rhs.period, BudgetLevel.allCases.firstIndex(of: rhs.level)!)
    }
}

extension BudgetLevel {
    /// The budgets above the commune's counterpart: the treasury pays them in proportion to it.
    var isUpper: Bool { self == .central || self == .provincial }
    /// The counterpart the treasury measures against: the district and commune budgets (002 §IV.9,
    /// "ngân sách cấp huyện, cấp xã bố trí đối ứng"). Residents' contributions are not a budget.
    var isCounterpart: Bool { self == .district || self == .commune }

    var vietnamese: String {
        switch self {
        case .central: "trung ương"
        case .provincial: "tỉnh"
        case .district: "huyện"
        case .commune: "xã"
        case .residents: "nhân dân"
        }
    }
}

/// Debt amounts as finding values: the total, one value per budget level owed, and a readable
/// breakdown ("xã 900.000.000 đ, huyện 300.000.000 đ").
func debtValues(_ byLevel: [BudgetLevel: Int64]) -> [String: Value] {
    var values: [String: Value] = ["debt_vnd": .amountVND(byLevel.values.reduce(0, +))]
    var vi: [String] = [], en: [String] = []
    for level in BudgetLevel.allCases {
        guard let amount = byLevel[level], amount != 0 else { continue }
        values["debt_\(level.rawValue)_vnd"] = .amountVND(amount)
        vi.append("\(level.vietnamese) \(Value.amountVND(amount).formatted(in: .vi))")
        en.append("\(level.rawValue) \(Value.amountVND(amount).formatted(in: .en))")
    }
    values["breakdown"] = .localized(LocalizedText(vi: vi.joined(separator: ", "), en: en.joined(separator: ", ")))
    return values
}
