import CheckKit
import Foundation

/// Capital disbursement against the year's milestones (002 §IV.7): items still at 0% at
/// mid-year, shares behind the milestone curve, the reallocation report due in October, and the
/// programme's close-out. See the module's README.
public struct DisbursementCheck: CheckModule {
    public init() {}

    enum Rules {
        static let zeroAtMidyear = Rule(
            id: "disbursement.zero_at_midyear", title: LocalizedText(vi: "Chưa giải ngân đến giữa năm", en: "Nothing disbursed at mid-year"),
            defaultSeverity: .critical, messageID: "cc7abcf3b0b14cbebfa879746c160ad0",
            template: LocalizedText(
                vi: "{subject}: {assigned_vnd} vẫn chưa giải ngân đồng nào (mốc {midyear}); thuộc diện điều chuyển vốn",
                en: "{subject}: none of the {assigned_vnd} is disbursed (mark {midyear}); it is a candidate for reallocation"),
            source: RuleSource("002", "IV.7"))
        static let behindSchedule = Rule(
            id: "disbursement.behind_schedule", title: LocalizedText(vi: "Giải ngân chậm so với mốc", en: "Disbursement behind schedule"),
            defaultSeverity: .warning, messageID: "2be0fb83e913464dad69a524b36dbefb",
            template: LocalizedText(
                vi: "{subject}: mới giải ngân {disbursed_vnd}/{assigned_vnd} ({disbursed_percent}), yêu cầu {required_percent} trước ngày {milestone}; theo tốc độ hiện nay đến {projection_date} đạt {projected_percent}",
                en: "{subject}: {disbursed_vnd} of {assigned_vnd} disbursed ({disbursed_percent}), {required_percent} required before {milestone}; at the current pace {projected_percent} by {projection_date}"),
            source: RuleSource("002", "IV.7"))
        static let reallocationReportDue = Rule(
            id: "disbursement.reallocation_report_due", title: LocalizedText(vi: "Phải báo cáo vốn không sử dụng hết", en: "Reallocation report due"),
            defaultSeverity: .warning, messageID: "1d545fd19d27437db1f30c6de05369fe",
            template: LocalizedText(
                vi: "{subject}: dự kiến đến 31/12 chỉ giải ngân {projected_percent} vốn năm {year} ({assigned_vnd}); phải báo cáo vốn không sử dụng hết trước ngày {report_due_before} {status}",
                en: "{subject}: projected to disburse only {projected_percent} of its {year} capital ({assigned_vnd}) by 31/12; the report of unusable capital is due before {report_due_before} {status}"),
            source: RuleSource("002", "IV.7"))
        static let programmeCloseout = Rule(
            id: "disbursement.programme_closeout", title: LocalizedText(vi: "Vốn chương trình chưa giải ngân hết", en: "Programme capital not paid out"),
            defaultSeverity: .critical, messageID: "721b7b4726644aa98db9acb4d7f6628e",
            template: LocalizedText(
                vi: "{subject}: còn {remaining_vnd} chưa giải ngân; vốn chương trình {programme} phải giải ngân xong trước ngày {closeout_before}",
                en: "{subject}: {remaining_vnd} not paid out; the {programme} programme's capital must be paid out before {closeout_before}"),
            source: RuleSource("002", "IV.7"))
        static let badData = BadData(
            module: "disbursement", messageID: "a4fbf99769fe42cda9160c6cb5015371",
            title: LocalizedText(vi: "Dữ liệu kế hoạch vốn không dùng được", en: "Unusable capital plan data"),
            record: LocalizedText(vi: "Kế hoạch vốn {subject}", en: "Capital plan {subject}"),
            fix: LocalizedText(vi: "sửa dữ liệu này trong kho", en: "fix these rows in the store"))
        static let all = [zeroAtMidyear, behindSchedule, reallocationReportDue, programmeCloseout, badData.rule]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "disbursement", version: "2.0.0",
            summary: LocalizedText(vi: "Theo dõi tiến độ giải ngân vốn theo các mốc trong năm",
                                   en: "Watches capital disbursement against the year's milestones"),
            settings: Parameters.declared,
            rules: Rules.all)
    }

    public func validate(_ settings: Settings) throws {
        _ = try Parameters(settings)
    }

    struct Parameters {
        static let milestones = Setting<[String: Double]>(
            "milestones", .table, written: .table(["06-30": .integer(50), "12-31": .integer(100)]),
            help: "Share of the year's capital (percent) to be disbursed by each day of the year (MM-DD), inclusive.")
        static let zeroWarningFrom = Setting<MonthDay>(
            "zero_warning_from", .text(choices: []), default: MonthDay("06-15")!,
            help: "From this day (MM-DD) an item of this year's capital still at 0% is a warning.")
        static let midyear = Setting<MonthDay>(
            "midyear", .text(choices: []), default: MonthDay("06-30")!,
            help: "From this day (MM-DD) an item still at 0% is critical: a candidate for reallocation.")
        static let reportFrom = Setting<MonthDay>(
            "report_from", .text(choices: []), default: MonthDay("10-01")!,
            help: "From this day (MM-DD) a unit projected below 100% must report its unusable capital.")
        static let reportDueBefore = Setting<MonthDay>(
            "report_due_before", .text(choices: []), default: MonthDay("10-10")!,
            help: "The report is due before this day (MM-DD); critical from it.")
        static let programme = Setting<String>(
            "programme", .text(choices: []), default: "2021-2025",
            help: "The programme period (YYYY-YYYY) whose capital must be paid out by closeout_before.")
        static let closeoutBefore = Setting<CivilDate>(
            "closeout_before", .date, default: CivilDate(year: 2025, month: 9, day: 1)!,
            help: "The programme's capital must be paid out before this date.")
        static let closeoutWarningDays = Setting<Int>(
            "closeout_warning_days", .integer(0...3660), default: 90,
            help: "Days before closeout_before from which unpaid programme capital is a warning.")
        static let declared = [milestones.spec, zeroWarningFrom.spec, midyear.spec, reportFrom.spec, reportDueBefore.spec,
                               programme.spec, closeoutBefore.spec, closeoutWarningDays.spec]

        let milestones: [(day: MonthDay, percent: Double)]
        let zeroWarningFrom: MonthDay
        let midyear: MonthDay
        let reportFrom: MonthDay
        let reportDueBefore: MonthDay
        let programme: String
        let programmeYears: ClosedRange<Int>
        let closeoutBefore: CivilDate
        let closeoutWarningDays: Int

        init(_ settings: Settings) throws(SettingsError) {
            var milestones: [(MonthDay, Double)] = []
            for (key, percent) in try settings[Self.milestones] {
                guard (0...100).contains(percent) else { throw SettingsError(key: "milestones.\(key)", message: "must be from 0 to 100, found \(percent)") }
                milestones.append((try MonthDay(setting: .text(key), key: "milestones.\(key)"), percent))
            }
            guard !milestones.isEmpty else { throw SettingsError(key: "milestones", message: "needs at least one day") }
            self.milestones = milestones.sorted { $0.0 < $1.0 }
            zeroWarningFrom = try settings[Self.zeroWarningFrom]
            midyear = try settings[Self.midyear]
            guard zeroWarningFrom <= midyear else { throw SettingsError(key: "zero_warning_from", message: "must not be after midyear (\(midyear))") }
            reportFrom = try settings[Self.reportFrom]
            reportDueBefore = try settings[Self.reportDueBefore]
            guard reportFrom < reportDueBefore else { throw SettingsError(key: "report_from", message: "must be before report_due_before (\(reportDueBefore))") }
            programme = try settings[Self.programme]
            let years = programme.split(separator: "-").compactMap { Int($0) }
            guard years.count == 2, years[0] <= years[1] else {
                throw SettingsError(key: "programme", message: "expected YYYY-YYYY, found \"\(programme)\"")
            }
            programmeYears = years[0]...years[1]
            closeoutBefore = try settings[Self.closeoutBefore]
            closeoutWarningDays = try settings[Self.closeoutWarningDays]
        }
    }

    public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let store = context.store
        return Self.findings(
            today: context.today, parameters: try Parameters(context.settings),
            units: try await store.unitsByID(),
            projects: Dictionary(try await store.projects().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            plans: try await store.capitalPlans(), reports: try await store.reallocationReports())
    }

    /// The rules over plain values, so tests need no store.
    static func findings(today: CivilDate, parameters: Parameters, units: [String: AdministrativeUnit],
                         projects: [String: Project], plans: [CapitalPlan], reports: [ReallocationReport]) -> [Finding] {
        var findings: [Finding] = []
        var usable: [PlanProgress] = []
        for plan in plans {
            let subject = subject(plan, units: units, projects: projects)
            if let problem = problem(with: plan, units: units) {
                findings.append(Rules.badData.finding(subject, [problem]))
            } else {
                usable.append(PlanProgress(plan: plan, subject: subject, today: today))
            }
        }
        for progress in usable {
            findings += zeroAtMidyear(progress, today: today, parameters: parameters)
            findings += behindSchedule(progress, today: today, parameters: parameters)
            findings += closeout(progress, today: today, parameters: parameters)
        }
        findings += reallocationReports(usable, today: today, parameters: parameters, units: units, reports: reports)
        return findings
    }

    static func subject(_ plan: CapitalPlan, units: [String: AdministrativeUnit], projects: [String: Project]) -> Subject {
        let owner = plan.projectID.flatMap { projects[$0]?.name } ?? units[plan.unitID]?.name ?? plan.unitID
        let source = plan.source.vietnamese
        let name = plan.carriedOverFrom.map { "\(owner): vốn \(source) năm \($0) chuyển sang" } ?? "\(owner): vốn \(source) năm \(plan.year)"
        return Subject(kind: "capital_plan", id: plan.id, name: name, unitID: units[plan.unitID] == nil ? nil : plan.unitID)
    }

    static func problem(with plan: CapitalPlan, units: [String: AdministrativeUnit]) -> LocalizedText? {
        if units[plan.unitID] == nil {
            return LocalizedText(vi: "đơn vị '\(plan.unitID)' không có trong danh mục", en: "the unit '\(plan.unitID)' is not a known unit")
        }
        if plan.assignedVND <= 0 {
            return LocalizedText(vi: "vốn giao là \(Value.amountVND(plan.assignedVND).formatted(in: .vi))",
                                 en: "the assigned capital is \(Value.amountVND(plan.assignedVND).formatted(in: .en))")
        }
        let series = plan.disbursed.sorted { $0.on < $1.on }
        for (earlier, later) in zip(series, series.dropFirst()) where later.cumulativeVND < earlier.cumulativeVND {
            return LocalizedText(vi: "lũy kế giải ngân giảm từ \(earlier.on.vietnamese) đến \(later.on.vietnamese)",
                                 en: "the cumulative disbursement falls between \(earlier.on) and \(later.on)")
        }
        if let over = series.first(where: { $0.cumulativeVND > plan.assignedVND || $0.cumulativeVND < 0 }) {
            return LocalizedText(vi: "lũy kế giải ngân ngày \(over.on.vietnamese) nằm ngoài 0…vốn giao",
                                 en: "the cumulative disbursement on \(over.on) is outside 0…the assigned capital")
        }
        return nil
    }

    static func zeroAtMidyear(_ progress: PlanProgress, today: CivilDate, parameters: Parameters) -> [Finding] {
        let plan = progress.plan
        guard plan.year == today.year, plan.carriedOverFrom == nil, progress.disbursed == 0,
              today >= parameters.zeroWarningFrom.in(today.year) else { return [] }
        let midyear = parameters.midyear.in(today.year)
        return [Finding(rule: Rules.zeroAtMidyear, subject: progress.subject, severity: today >= midyear ? .critical : .warning,
                        values: progress.values.merging(["midyear": .date(midyear)]) { $1 })]
    }

    static func behindSchedule(_ progress: PlanProgress, today: CivilDate, parameters: Parameters) -> [Finding] {
        let plan = progress.plan
        var values = progress.values
        if plan.carriedOverFrom != nil, let due = plan.dueOn {
            // Carried-over capital has one mark of its own, all of it by its due date (the last
            // day), and nothing left to project once that day has passed. After its year, what is left
            // is the close-out's concern.
            guard today > due, today.year == due.year, progress.percent < 100 else { return [] }
            values["required_percent"] = .percent(100)
            // The message says "trước ngày D" as the seeds do; `due` is the last day, so D is the next.
            values["milestone"] = .date(due.adding(days: 1))
            values["projection_date"] = .date(due)
            values["projected_percent"] = .percent(progress.percent)
            return [Finding(rule: Rules.behindSchedule, subject: progress.subject, severity: .critical, values: values)]
        }
        guard plan.year == today.year,
              let reached = parameters.milestones.last(where: { $0.day.in(today.year) <= today }),
              progress.percent < reached.percent else { return [] }
        let yearEnd = CivilDate(year: today.year, month: 12, day: 31)!
        values["required_percent"] = .percent(reached.percent)
        values["milestone"] = .date(reached.day.in(today.year))
        values["projection_date"] = .date(yearEnd)
        values["projected_percent"] = .percent(progress.projectedPercent(at: yearEnd))
        return [Finding(rule: Rules.behindSchedule, subject: progress.subject, values: values)]
    }

    static func closeout(_ progress: PlanProgress, today: CivilDate, parameters: Parameters) -> [Finding] {
        let plan = progress.plan
        let closeout = parameters.closeoutBefore
        guard parameters.programmeYears.contains(plan.carriedOverFrom ?? plan.year), progress.disbursed < plan.assignedVND,
              today >= closeout.adding(days: -parameters.closeoutWarningDays) else { return [] }
        var values = progress.values
        values["remaining_vnd"] = .amountVND(plan.assignedVND - progress.disbursed)
        values["programme"] = .text(parameters.programme)
        values["closeout_before"] = .date(closeout)
        return [Finding(rule: Rules.programmeCloseout, subject: progress.subject, severity: today >= closeout ? .critical : .warning,
                        values: values)]
    }

    static func reallocationReports(_ progress: [PlanProgress], today: CivilDate, parameters: Parameters,
                                    units: [String: AdministrativeUnit], reports: [ReallocationReport]) -> [Finding] {
        guard today >= parameters.reportFrom.in(today.year) else { return [] }
        // Plans and reports of a merged unit are its heir's: the heir reports for the whole territory.
        let map = UnitMap(units)
        func owner(_ unitID: String) -> String { map.heir(of: unitID, on: today) ?? unitID }
        let filed = Set(reports.filter { $0.year == today.year && $0.filedOn <= today }.map { owner($0.unitID) })
        let yearEnd = CivilDate(year: today.year, month: 12, day: 31)!
        let dueBefore = parameters.reportDueBefore.in(today.year)
        let thisYear = progress.filter { $0.plan.year == today.year && $0.plan.carriedOverFrom == nil }
        var findings: [Finding] = []
        for (unitID, plans) in Dictionary(grouping: thisYear, by: { owner($0.plan.unitID) }).sorted(by: { $0.key < $1.key }) {
            guard !filed.contains(unitID), let unit = units[unitID] else { continue }
            let assigned = plans.reduce(0) { $0 + $1.plan.assignedVND }
            let projected = plans.reduce(0.0) { $0 + $1.projectedVND(at: yearEnd) }
            let percent = min(100, projected * 100 / Double(assigned))
            guard percent < 100 else { continue }
            let late = today >= dueBefore
            findings.append(Finding(rule: Rules.reallocationReportDue, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id),
                                    severity: late ? .critical : .warning, labels: ["year": String(today.year)], values: [
                "year": .text(String(today.year)), "assigned_vnd": .amountVND(assigned), "projected_percent": .percent(percent),
                "report_due_before": .date(dueBefore), "plans": .list(plans.map(\.plan.id)),
                "status": .localized(LocalizedText(vi: late ? "(đã quá hạn, chưa báo cáo)" : "(chưa báo cáo)", en: late ? "(overdue, not filed)" : "(not filed yet)")),
            ]))
        }
        return findings
    }
}

/// One capital plan's progress on one day.
struct PlanProgress {
    let plan: CapitalPlan
    let subject: Subject
    let today: CivilDate
    let disbursed: Int64

    init(plan: CapitalPlan, subject: Subject, today: CivilDate) {
        self.plan = plan
        self.subject = subject
        self.today = today
        disbursed = plan.disbursed.filter { $0.on <= today }.max { $0.on < $1.on }?.cumulativeVND ?? 0
    }

    var percent: Double { Double(disbursed) * 100 / Double(plan.assignedVND) }

    /// Linear projection from 1 January of the plan's year at the pace so far, capped at what was
    /// assigned.
    func projectedVND(at date: CivilDate) -> Double {
        let start = CivilDate(year: plan.year, month: 1, day: 1)!
        let elapsed = Double(max(1, start.days(until: today) + 1))
        let span = Double(max(1, start.days(until: date) + 1))
        return min(Double(plan.assignedVND), Double(disbursed) * span / elapsed)
    }

    func projectedPercent(at date: CivilDate) -> Double { projectedVND(at: date) * 100 / Double(plan.assignedVND) }

    var values: [String: Value] {
        var values: [String: Value] = [
            "year": .text(String(plan.year)), "assigned_vnd": .amountVND(plan.assignedVND),
            "disbursed_vnd": .amountVND(disbursed), "disbursed_percent": .percent(percent), "source": .text(plan.source.rawValue),
        ]
        if let project = plan.projectID { values["project_id"] = .text(project) }
        return values
    }
}

extension BudgetLevel {
    var vietnamese: String {
        switch self {
        case .central: "ngân sách trung ương"
        case .provincial: "ngân sách tỉnh"
        case .district: "ngân sách huyện"
        case .commune: "ngân sách xã"
        case .residents: "nhân dân đóng góp"
        }
    }
}
