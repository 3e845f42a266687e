import CheckKit
import Foundation

/// Outstanding basic-construction debt (nợ đọng XDCB) and the rules the seeds set on it (002 §IV.9,
/// 001, 004 §7): debt at a recognized unit, legacy debt past its cut-off, new debt, the three-year
/// settlement mark and the treasury's counterpart proportion. See the module's README.
public struct DebtCheck: CheckModule {
    public init() {}

    enum Rules {
        static let recognizedUnitHasDebt = Rule(
            id: "debt.recognized_unit_has_debt", title: LocalizedText(vi: "Đơn vị đạt chuẩn còn nợ đọng", en: "Recognized unit has debt"),
            defaultSeverity: .critical, messageID: "22980decab1d4bfcb2538687ed1573b1",
            template: LocalizedText(
                vi: "{subject}: {standing_vi} nhưng còn nợ đọng XDCB {debt_vnd} ({breakdown_vi}) ở {projects}; {plan_vi}",
                en: "{subject}: {standing_en} but owes {debt_vnd} of construction debt ({breakdown_en}) on {projects}; {plan_en}"))
        static let legacyPeriodOutstanding = Rule(
            id: "debt.legacy_period_outstanding", title: LocalizedText(vi: "Nợ giai đoạn trước chưa trả", en: "Legacy-period debt outstanding"),
            defaultSeverity: .critical, messageID: "3770adeab9bd447f9bd091f342cbd37f",
            template: LocalizedText(
                vi: "{subject}: còn nợ giai đoạn {period} {debt_vnd} ({breakdown_vi}); {deadline_vi}",
                en: "{subject}: {debt_vnd} of {period} debt outstanding ({breakdown_en}); {deadline_en}"))
        static let newDebt = Rule(
            id: "debt.new_debt", title: LocalizedText(vi: "Phát sinh nợ đọng mới", en: "New debt"),
            defaultSeverity: .warning, messageID: "26504014678f4e1e91bc404a7d230623",
            template: LocalizedText(
                vi: "{subject}: nợ đọng XDCB tăng {increase_vnd}, từ {previous_debt_vnd} ({previous_on}) lên {debt_vnd} ({debt_on}); không được để phát sinh nợ mới",
                en: "{subject}: construction debt grew by {increase_vnd}, from {previous_debt_vnd} ({previous_on}) to {debt_vnd} ({debt_on}); no new debt may arise"))
        static let settlementOverdue = Rule(
            id: "debt.settlement_overdue", title: LocalizedText(vi: "Quá hạn phê duyệt quyết toán", en: "Final settlement overdue"),
            defaultSeverity: .critical, messageID: "46d35f7d859c4e5e98d3550312231c1d",
            template: LocalizedText(
                vi: "{subject}: phân bổ vốn ngày {allocated_on}, chưa phê duyệt quyết toán; {status_vi}",
                en: "{subject}: capital allocated on {allocated_on}, no approved final settlement; {status_en}"))
        static let counterpartLagging = Rule(
            id: "debt.counterpart_lagging", title: LocalizedText(vi: "Vốn đối ứng chậm", en: "Counterpart funding lagging"),
            defaultSeverity: .warning, messageID: "f6af06d5e494476192b4cc36989275a3",
            template: LocalizedText(
                vi: "{subject}: vốn trung ương và tỉnh đã giải ngân {upper_disbursed_vnd} nhưng vốn đối ứng mới giải ngân {local_disbursed_vnd} trên {local_share_vnd} ({local_percent}); kho bạc chỉ thanh toán tương ứng {allowed_upper_vnd}, vượt {blocked_vnd}",
                en: "{subject}: {upper_disbursed_vnd} of central and provincial money paid out but only {local_disbursed_vnd} of the {local_share_vnd} counterpart ({local_percent}); the treasury pays only {allowed_upper_vnd} in proportion, {blocked_vnd} ahead"))
        static let badData = Rule(
            id: "debt.bad_data", title: LocalizedText(vi: "Dữ liệu công trình không dùng được", en: "Unusable project data"),
            defaultSeverity: .warning, messageID: "a7900c3d8c564a5181eb3750d5eb26d9",
            template: LocalizedText(
                vi: "Công trình {subject}: {problem_vi}; sửa dữ liệu công trình này trong kho",
                en: "Project {subject}: {problem_en}; fix this project's rows in the store"))
        static let all = [recognizedUnitHasDebt, legacyPeriodOutstanding, newDebt, settlementOverdue, counterpartLagging, badData]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "debt", version: "1.0.0",
            summary: LocalizedText(vi: "Theo dõi nợ đọng xây dựng cơ bản, quyết toán và vốn đối ứng",
                                   en: "Watches construction debt, final settlements and counterpart funding"),
            settings: [
                SettingSpec("roadmap_years_ahead", .integer(0...10), default: .integer(1),
                            help: "A unit whose roadmap target year is at most this many years away is watched like a recognized one."),
                SettingSpec("legacy_period", .text(choices: []), default: .text("2016-2020"),
                            help: "The period whose debt must be cleared by legacy_cutoff."),
                SettingSpec("legacy_cutoff", .date, default: .text("2024-06-01"),
                            help: "Legacy debt must be cleared before this date (critical from it)."),
                SettingSpec("legacy_warning_days", .integer(0...3660), default: .integer(90),
                            help: "Days before legacy_cutoff from which legacy debt is a warning."),
                SettingSpec("settlement_years", .integer(1...20), default: .integer(3),
                            help: "Years after the capital allocation by which the final settlement must be approved."),
                SettingSpec("settlement_warning_days", .integer(0...3660), default: .integer(90),
                            help: "Days before the settlement mark from which an unsettled project is a warning."),
                SettingSpec("counterpart_tolerance_vnd", .integer(0...Int.max), default: .integer(0),
                            help: "Upper-budget money ahead of the counterpart proportion by at most this much is not reported."),
            ],
            rules: Rules.all)
    }

    struct Parameters {
        let yearsAhead: Int
        let legacyPeriod: String
        let legacyCutoff: CivilDate
        let legacyWarningDays: Int
        let settlementYears: Int
        let settlementWarningDays: Int
        let counterpartTolerance: Int64

        init(_ settings: Settings) throws {
            yearsAhead = try settings.integer("roadmap_years_ahead")
            legacyPeriod = try settings.text("legacy_period")
            legacyCutoff = try settings.date("legacy_cutoff")
            legacyWarningDays = try settings.integer("legacy_warning_days")
            settlementYears = try settings.integer("settlement_years")
            settlementWarningDays = try settings.integer("settlement_warning_days")
            counterpartTolerance = Int64(try settings.integer("counterpart_tolerance_vnd"))
        }
    }

    public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let store = context.store
        let map = try await store.unitMap()
        return Self.findings(
            today: context.today, parameters: try Parameters(context.settings),
            units: map.units,
            standing: Standing(recognitions: try await store.recognitions(),
                               roadmap: map.roadmap(try await store.roadmap(), on: context.today)),
            projects: try await store.projects())
    }

    /// The rules over plain values, so tests need no store.
    static func findings(today: CivilDate, parameters: Parameters, units: [String: AdministrativeUnit],
                         standing: Standing, projects: [Project]) -> [Finding] {
        var findings: [Finding] = []
        var usable: [ProjectLedger] = []
        for project in projects {
            let ledger = ProjectLedger(project: project)
            var problems = ledger.problems()
            if units[project.communeID] == nil {
                problems.append(LocalizedText(vi: "xã '\(project.communeID)' không có trong danh mục", en: "the commune '\(project.communeID)' is not a known unit"))
            }
            if problems.isEmpty {
                usable.append(ledger)
            } else {
                findings.append(Finding(rule: Rules.badData, subject: subject(project),
                                        values: ["problem_vi": .text(problems.map(\.vi).joined(separator: "; ")),
                                                 "problem_en": .text(problems.map(\.en).joined(separator: "; "))]))
            }
        }
        for ledger in usable {
            findings += legacyDebt(ledger, today: today, parameters: parameters)
            findings += settlement(ledger, today: today, parameters: parameters)
            findings += counterpart(ledger, today: today, parameters: parameters)
        }
        // A merged commune's projects count against the commune that carries it today, with that
        // commune's recognition and roadmap; before the merger they are the old commune's.
        let map = UnitMap(units)
        let byUnit = Dictionary(grouping: usable) { map.heir(of: $0.project.communeID, on: today) ?? $0.project.communeID }
        for unitID in byUnit.keys.sorted() {
            guard let unit = units[unitID], let ledgers = byUnit[unitID] else { continue }
            findings += unitDebt(unit, ledgers, today: today, parameters: parameters, standing: standing)
            findings += newDebt(unit, ledgers, today: today)
        }
        return findings
    }

    static func subject(_ project: Project) -> Subject {
        Subject(kind: "project", id: project.id, name: project.name, unitID: project.communeID)
    }

    static func unitDebt(_ unit: AdministrativeUnit, _ ledgers: [ProjectLedger], today: CivilDate,
                         parameters: Parameters, standing: Standing) -> [Finding] {
        let recognized = standing.isRecognized(unit.id)
        let target = standing.openTargets(of: unit.id).first { (today.year...today.year + parameters.yearsAhead).contains($0.targetYear) }
        guard recognized || target != nil else { return [] }
        var byLevel: [BudgetLevel: Int64] = [:]
        var indebted: [ProjectLedger] = []
        for ledger in ledgers {
            let owed = ledger.outstanding(on: today)
            guard owed.values.reduce(0, +) > 0 else { continue }
            indebted.append(ledger)
            for (key, amount) in owed { byLevel[key.level, default: 0] += amount }
        }
        guard !indebted.isEmpty else { return [] }
        let unplanned = indebted.filter { $0.project.repaymentPlan == nil }
        var values = debtValues(byLevel)
        values["projects"] = .list(indebted.map { "\($0.project.name) (\($0.project.id))" })
        values["project_count"] = .integer(Int64(indebted.count))
        values["has_repayment_plan"] = .bool(unplanned.isEmpty)
        if recognized {
            values["standing_vi"] = .text("đã đạt chuẩn")
            values["standing_en"] = .text("is recognized")
        } else if let target {
            values["standing_vi"] = .text("phấn đấu đạt chuẩn năm \(target.targetYear)")
            values["standing_en"] = .text("aims at recognition in \(target.targetYear)")
        }
        if unplanned.isEmpty {
            values["plan_vi"] = .text("đã có kế hoạch trả nợ")
            values["plan_en"] = .text("a repayment plan exists")
        } else {
            values["plan_vi"] = .text("chưa có kế hoạch trả nợ cho \(unplanned.map(\.project.id).joined(separator: ", ")): \(recognized ? "có thể bị thu hồi Quyết định công nhận" : "không đủ điều kiện công nhận")")
            values["plan_en"] = .text("no repayment plan for \(unplanned.map(\.project.id).joined(separator: ", ")): \(recognized ? "the recognition can be revoked" : "it cannot be recognized")")
        }
        return [Finding(rule: Rules.recognizedUnitHasDebt, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id),
                        severity: unplanned.isEmpty ? .warning : .critical, values: values)]
    }

    static func legacyDebt(_ ledger: ProjectLedger, today: CivilDate, parameters: Parameters) -> [Finding] {
        let cutoff = parameters.legacyCutoff
        guard today >= cutoff.adding(days: -parameters.legacyWarningDays) else { return [] }
        var byLevel: [BudgetLevel: Int64] = [:]
        for (key, amount) in ledger.outstanding(on: today) where key.period == parameters.legacyPeriod && amount > 0 {
            byLevel[key.level, default: 0] += amount
        }
        guard !byLevel.isEmpty else { return [] }
        let lastDay = cutoff.adding(days: -1)
        var values = debtValues(byLevel)
        values["period"] = .text(parameters.legacyPeriod)
        values["cutoff"] = .date(cutoff)
        let late = today >= cutoff
        if late {
            values["days_overdue"] = .integer(Int64(lastDay.days(until: today)))
            values["deadline_vi"] = .text("hạn trả là trước ngày \(cutoff.vietnamese), đã quá \(lastDay.days(until: today)) ngày")
            values["deadline_en"] = .text("it was due before \(cutoff), \(lastDay.days(until: today)) days ago")
        } else {
            values["days_left"] = .integer(Int64(today.days(until: lastDay)))
            values["deadline_vi"] = .text("phải trả xong trước ngày \(cutoff.vietnamese), còn \(today.days(until: lastDay)) ngày")
            values["deadline_en"] = .text("it must be cleared before \(cutoff), \(today.days(until: lastDay)) days left")
        }
        return [Finding(rule: Rules.legacyPeriodOutstanding, subject: subject(ledger.project),
                        severity: late ? .critical : .warning, values: values)]
    }

    static func newDebt(_ unit: AdministrativeUnit, _ ledgers: [ProjectLedger], today: CivilDate) -> [Finding] {
        let days = Set(ledgers.flatMap(\.snapshotDays)).filter { $0 <= today }.sorted()
        guard days.count >= 2 else { return [] }
        let latest = days[days.count - 1], previous = days[days.count - 2]
        func total(_ day: CivilDate) -> Int64 { ledgers.reduce(0) { $0 + $1.outstanding(on: day).values.reduce(0, +) } }
        let now = total(latest), before = total(previous)
        guard now > before else { return [] }
        return [Finding(rule: Rules.newDebt, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id), values: [
            "increase_vnd": .amountVND(now - before), "debt_vnd": .amountVND(now), "previous_debt_vnd": .amountVND(before),
            "debt_on": .date(latest), "previous_on": .date(previous),
        ])]
    }

    static func settlement(_ ledger: ProjectLedger, today: CivilDate, parameters: Parameters) -> [Finding] {
        let project = ledger.project
        guard let allocated = project.allocatedOn, project.settlementApprovedOn == nil else { return [] }
        let mark = allocated.adding(years: parameters.settlementYears)
        guard today >= mark.adding(days: -parameters.settlementWarningDays) else { return [] }
        let upperShare = (project.shares[.central] ?? 0) + (project.shares[.provincial] ?? 0)
        let atStake = Value.amountVND(upperShare)
        var values: [String: Value] = [
            "allocated_on": .date(allocated), "mark_date": .date(mark), "years": .integer(Int64(parameters.settlementYears)),
            "upper_share_vnd": atStake, "total_vnd": .amountVND(project.totalVND),
        ]
        let late = today >= mark
        if late {
            values["status_vi"] = .text("đã quá mốc \(parameters.settlementYears) năm (\(mark.vietnamese)): phần vốn trung ương và tỉnh \(atStake.formatted(in: .vi)) chuyển sang ngân sách địa phương chịu, công trình không được bố trí thêm vốn trung ương, tỉnh")
            values["status_en"] = .text("past the \(parameters.settlementYears)-year mark (\(mark)): the central and provincial share of \(atStake.formatted(in: .en)) now falls on the local budget and no more central or provincial money may go to it")
        } else {
            values["days_left"] = .integer(Int64(today.days(until: mark)))
            values["status_vi"] = .text("đến \(mark.vietnamese) là tròn \(parameters.settlementYears) năm (còn \(today.days(until: mark)) ngày); nếu chưa quyết toán, phần vốn trung ương và tỉnh \(atStake.formatted(in: .vi)) chuyển sang ngân sách địa phương")
            values["status_en"] = .text("the \(parameters.settlementYears)-year mark is \(mark) (\(today.days(until: mark)) days left); without a settlement the central and provincial share of \(atStake.formatted(in: .en)) falls on the local budget")
        }
        return [Finding(rule: Rules.settlementOverdue, subject: subject(project), severity: late ? .critical : .warning, values: values)]
    }

    static func counterpart(_ ledger: ProjectLedger, today: CivilDate, parameters: Parameters) -> [Finding] {
        let project = ledger.project
        let upperShare = project.shares.filter { $0.key.isUpper }.values.reduce(0, +)
        let localShare = project.shares.filter { !$0.key.isUpper }.values.reduce(0, +)
        guard upperShare > 0, localShare > 0 else { return [] }
        let disbursed = ledger.disbursed(on: today)
        let upperPaid = disbursed.filter { $0.key.isUpper }.values.reduce(0, +)
        let localPaid = disbursed.filter { !$0.key.isUpper }.values.reduce(0, +)
        // What the treasury may pay from the upper budgets: their share in the proportion the
        // counterpart has reached. Integer VND; rounded down, as the treasury would.
        let allowed = Int64((Double(min(localPaid, localShare)) / Double(localShare) * Double(upperShare)).rounded(.down))
        let ahead = upperPaid - allowed
        guard ahead > parameters.counterpartTolerance else { return [] }
        return [Finding(rule: Rules.counterpartLagging, subject: subject(project), values: [
            "upper_disbursed_vnd": .amountVND(upperPaid), "local_disbursed_vnd": .amountVND(localPaid),
            "local_share_vnd": .amountVND(localShare), "local_percent": .percent(Double(localPaid) * 100 / Double(localShare)),
            "allowed_upper_vnd": .amountVND(allowed), "blocked_vnd": .amountVND(ahead),
        ])]
    }
}
