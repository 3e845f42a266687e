import CheckKit
import Foundation

/// Outstanding basic-construction debt (nợ đọng XDCB) and the rules the seeds set on it (002 §IV.9,
/// 002 §V.3): debt at a recognized unit, legacy debt past its cut-off, new debt, the three-year
/// settlement mark, upper-budget money paid after it, works handed over and not settled, and the
/// treasury's counterpart proportion. See the module's README.
public struct DebtCheck: CheckModule {
    public init() {}

    enum Rules {
        static let recognizedUnitHasDebt = Rule(
            id: "debt.recognized_unit_has_debt", title: LocalizedText(vi: "Đơn vị đạt chuẩn còn nợ đọng", en: "Recognized unit has debt"),
            defaultSeverity: .critical, messageID: "22980decab1d4bfcb2538687ed1573b1",
            template: LocalizedText(
                vi: "{subject}: {standing} nhưng còn nợ đọng XDCB {debt_vnd} ({breakdown}) ở {projects}; {plan}",
                en: "{subject}: {standing} but owes {debt_vnd} of construction debt ({breakdown}) on {projects}; {plan}"),
            source: RuleSource("002", "IV.9"))
        static let legacyPeriodOutstanding = Rule(
            id: "debt.legacy_period_outstanding", title: LocalizedText(vi: "Nợ giai đoạn trước chưa trả", en: "Legacy-period debt outstanding"),
            defaultSeverity: .critical, messageID: "3770adeab9bd447f9bd091f342cbd37f",
            template: LocalizedText(
                vi: "{subject}: còn nợ giai đoạn {period} {debt_vnd} ({breakdown}); {deadline}",
                en: "{subject}: {debt_vnd} of {period} debt outstanding ({breakdown}); {deadline}"),
            source: RuleSource("002", "IV.9"))
        static let newDebt = Rule(
            id: "debt.new_debt", title: LocalizedText(vi: "Phát sinh nợ đọng mới", en: "New debt"),
            defaultSeverity: .warning, messageID: "26504014678f4e1e91bc404a7d230623",
            template: LocalizedText(
                vi: "{subject}: nợ đọng XDCB tăng {increase_vnd}, từ {previous_debt_vnd} ({previous_on}) lên {debt_vnd} ({debt_on}); không được để phát sinh nợ mới",
                en: "{subject}: construction debt grew by {increase_vnd}, from {previous_debt_vnd} ({previous_on}) to {debt_vnd} ({debt_on}); no new debt may arise"),
            source: RuleSource("002", "V.3"))
        static let settlementOverdue = Rule(
            id: "debt.settlement_overdue", title: LocalizedText(vi: "Quá hạn phê duyệt quyết toán", en: "Final settlement overdue"),
            defaultSeverity: .critical, messageID: "46d35f7d859c4e5e98d3550312231c1d",
            template: LocalizedText(
                vi: "{subject}: phân bổ vốn ngày {allocated_on}, chưa phê duyệt quyết toán; {status}",
                en: "{subject}: capital allocated on {allocated_on}, no approved final settlement; {status}"),
            source: RuleSource("002", "IV.9"))
        static let counterpartLagging = Rule(
            id: "debt.counterpart_lagging", title: LocalizedText(vi: "Vốn đối ứng chậm", en: "Counterpart funding lagging"),
            defaultSeverity: .warning, messageID: "f6af06d5e494476192b4cc36989275a3",
            template: LocalizedText(
                vi: "{subject}: vốn trung ương và tỉnh đã giải ngân {upper_disbursed_vnd} nhưng vốn đối ứng ngân sách cấp huyện, xã mới giải ngân {local_disbursed_vnd} trên {local_share_vnd} ({local_percent}); kho bạc chỉ thanh toán tương ứng {allowed_upper_vnd}, vượt {blocked_vnd}",
                en: "{subject}: {upper_disbursed_vnd} of central and provincial money paid out but only {local_disbursed_vnd} of the {local_share_vnd} district and commune counterpart ({local_percent}); the treasury pays only {allowed_upper_vnd} in proportion, {blocked_vnd} ahead"),
            source: RuleSource("002", "IV.9"))
        static let badData = BadData(
            module: "debt", messageID: "a7900c3d8c564a5181eb3750d5eb26d9",
            title: LocalizedText(vi: "Dữ liệu công trình không dùng được", en: "Unusable project data"),
            record: LocalizedText(vi: "Công trình {subject}", en: "Project {subject}"),
            fix: LocalizedText(vi: "sửa dữ liệu công trình này trong kho", en: "fix this project's rows in the store"))
        static let upperMoneyAfterMark = Rule(
            id: "debt.upper_money_after_mark", title: LocalizedText(vi: "Giải ngân vốn trung ương, tỉnh cho công trình quá 03 năm chưa quyết toán", en: "Upper-budget money paid after the settlement mark"),
            defaultSeverity: .critical, messageID: "217be64681ee488ca7cecc02f3d77749",
            template: LocalizedText(
                vi: "{subject}: quá 03 năm kể từ ngày phân bổ vốn ({allocated_on}) chưa phê duyệt quyết toán mà vẫn giải ngân {after_mark_vnd} vốn ngân sách trung ương/ngân sách tỉnh sau ngày {mark_date} (lần cuối ngày {last_paid_on}); không được dùng vốn trung ương, tỉnh của Chương trình cho công trình này",
                en: "{subject}: more than 3 years after its capital allocation ({allocated_on}) with no approved final settlement, {after_mark_vnd} of central or provincial money was still paid out after {mark_date} (last on {last_paid_on}); the programme's central and provincial money may not go to it"),
            source: RuleSource("002", "IV.9"))
        static let handoverUnsettled = Rule(
            id: "debt.handover_unsettled", title: LocalizedText(vi: "Công trình đã bàn giao chưa quyết toán", en: "Handed-over works not settled"),
            defaultSeverity: .warning, messageID: "e641c528231f4eaf8db48387f2ae4c9d",
            template: LocalizedText(
                vi: "{subject}: đã bàn giao đưa vào sử dụng ngày {handover_on} ({days_since_handover} ngày trước) nhưng chưa phê duyệt quyết toán dự án hoàn thành; cần lập hồ sơ quyết toán để có cơ sở bố trí phần nợ ngân sách các cấp",
                en: "{subject}: handed over for use on {handover_on} ({days_since_handover} days ago) with no approved final settlement; the settlement dossier is needed before the budgets' debt can be funded"),
            source: RuleSource("002", "IV.9"))
        static let all = [recognizedUnitHasDebt, legacyPeriodOutstanding, newDebt, settlementOverdue, upperMoneyAfterMark,
                          handoverUnsettled, counterpartLagging, badData.rule]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "debt", version: "2.0.0",
            summary: LocalizedText(vi: "Theo dõi nợ đọng xây dựng cơ bản, quyết toán và vốn đối ứng",
                                   en: "Watches construction debt, final settlements and counterpart funding"),
            settings: Parameters.declared,
            rules: Rules.all)
    }

    struct Parameters {
        static let yearsAhead = Setting<Int>(
            "roadmap_years_ahead", .integer(0...10), default: 1,
            help: "A unit whose roadmap target year is at most this many years away is watched like a recognized one.")
        static let legacyPeriod = Setting<String>(
            "legacy_period", .text(choices: []), default: "2016-2020",
            help: "The period whose debt must be cleared by legacy_cutoff.")
        static let legacyCutoff = Setting<CivilDate>(
            "legacy_cutoff", .date, default: CivilDate(year: 2024, month: 6, day: 1)!,
            help: "Legacy debt must be cleared before this date (critical from it).")
        static let legacyWarningDays = Setting<Int>(
            "legacy_warning_days", .integer(0...3660), default: 90,
            help: "Days before legacy_cutoff from which legacy debt is a warning.")
        static let settlementYears = Setting<Int>(
            "settlement_years", .integer(1...20), default: 3,
            help: "Years after the capital allocation by which the final settlement must be approved.")
        static let settlementWarningDays = Setting<Int>(
            "settlement_warning_days", .integer(0...3660), default: 90,
            help: "Days before the settlement mark from which an unsettled project is a warning.")
        static let handoverSettlementDays = Setting<Int>(
            "handover_settlement_days", .integer(0...3660), default: 180,
            help: "Days after the handover from which works without an approved settlement are reported (the seed says only 'sớm': set the province's own figure).")
        static let counterpartTolerance = Setting<Int>(
            "counterpart_tolerance_vnd", .integer(0...Int.max), default: 0,
            help: "Upper-budget money ahead of the counterpart proportion by at most this much is not reported.")
        static let declared = [yearsAhead.spec, legacyPeriod.spec, legacyCutoff.spec, legacyWarningDays.spec, settlementYears.spec,
                               settlementWarningDays.spec, handoverSettlementDays.spec, counterpartTolerance.spec]

        let yearsAhead: Int
        let legacyPeriod: String
        let legacyCutoff: CivilDate
        let legacyWarningDays: Int
        let settlementYears: Int
        /// Two digits, as the seed writes it ("quá 03 năm"); written once, not per project.
        let settlementYearsText: String
        let settlementWarningDays: Int
        let handoverSettlementDays: Int
        let counterpartTolerance: Int64

        init(_ settings: Settings) throws(SettingsError) {
            yearsAhead = try settings[Self.yearsAhead]
            legacyPeriod = try settings[Self.legacyPeriod]
            legacyCutoff = try settings[Self.legacyCutoff]
            legacyWarningDays = try settings[Self.legacyWarningDays]
            settlementYears = try settings[Self.settlementYears]
            settlementYearsText = String(format: "%02d", settlementYears)
            settlementWarningDays = try settings[Self.settlementWarningDays]
            handoverSettlementDays = try settings[Self.handoverSettlementDays]
            counterpartTolerance = Int64(try settings[Self.counterpartTolerance])
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
        func add(_ finding: Finding?) { if let finding { findings.append(finding) } }
        // Positions in `projects`, not copies: a national store has 200,000 projects.
        var usable: [Int] = []
        usable.reserveCapacity(projects.count)
        for (index, project) in projects.enumerated() {
            var problems = ProjectLedger.problems(of: project)
            if units[project.communeID] == nil {
                problems.append(LocalizedText(vi: "xã '\(project.communeID)' không có trong danh mục", en: "the commune '\(project.communeID)' is not a known unit"))
            }
            if problems.isEmpty {
                usable.append(index)
            } else {
                findings.append(Rules.badData.finding(subject(project), problems))
            }
        }
        for index in usable {
            let ledger = ProjectLedger(project: projects[index], today: today)
            // Two rules read what each budget has paid by today.
            let paid = ledger.disbursed(on: today)
            add(legacyDebt(ledger, today: today, parameters: parameters))
            add(settlement(ledger, today: today, parameters: parameters))
            add(upperMoneyAfterMark(ledger, today: today, paid: paid, parameters: parameters))
            add(handover(ledger, today: today, parameters: parameters))
            add(counterpart(ledger, paid: paid, parameters: parameters))
        }
        // A merged commune's projects count against the commune that carries it today, with that
        // commune's recognition and roadmap; before the merger they are the old commune's.
        let map = UnitMap(units)
        // Each commune's heir once: a national store has twenty projects per commune.
        var heirs: [String: String] = [:]
        let byUnit = Dictionary(grouping: usable) { index in
            let commune = projects[index].communeID
            if let known = heirs[commune] { return known }
            let heir = map.heir(of: commune, on: today) ?? commune
            heirs[commune] = heir
            return heir
        }
        for unitID in byUnit.keys.sorted() {
            guard let unit = units[unitID], let indices = byUnit[unitID] else { continue }
            let ledgers = indices.map { ProjectLedger(project: projects[$0], today: today) }
            add(unitDebt(unit, ledgers, today: today, parameters: parameters, standing: standing))
            add(newDebt(unit, ledgers, today: today))
        }
        return findings
    }

    static func subject(_ project: Project) -> Subject {
        Subject(kind: "project", id: project.id, name: project.name, unitID: project.communeID)
    }

    static func unitDebt(_ unit: AdministrativeUnit, _ ledgers: [ProjectLedger], today: CivilDate,
                         parameters: Parameters, standing: Standing) -> Finding? {
        let recognized = standing.isRecognized(unit.id)
        let target = standing.openTargets(of: unit.id).first { (today.year...today.year + parameters.yearsAhead).contains($0.targetYear) }
        guard recognized || target != nil else { return nil }
        var byLevel: [BudgetLevel: Int64] = [:]
        var indebted: [ProjectLedger] = []
        for ledger in ledgers {
            let owed = ledger.owedToday
            guard owed.values.reduce(0, +) > 0 else { continue }
            indebted.append(ledger)
            for (key, amount) in owed { byLevel[key.level, default: 0] += amount }
        }
        guard !indebted.isEmpty else { return nil }
        let unplanned = indebted.filter { $0.project.repaymentPlan == nil }
        var values = debtValues(byLevel)
        values["projects"] = .list(indebted.map { "\($0.project.name) (\($0.project.id))" })
        values["project_count"] = .integer(Int64(indebted.count))
        values["has_repayment_plan"] = .bool(unplanned.isEmpty)
        if recognized {
            values["standing"] = .localized(LocalizedText(vi: "đã đạt chuẩn", en: "is recognized"))
        } else if let target {
            values["standing"] = .localized(LocalizedText(
                vi: "phấn đấu đạt chuẩn năm \(target.targetYear)",
                en: "aims at recognition in \(target.targetYear)"))
        }
        if unplanned.isEmpty {
            values["plan"] = .localized(LocalizedText(vi: "đã có kế hoạch trả nợ", en: "a repayment plan exists"))
        } else {
            values["plan"] = .localized(LocalizedText(
                vi: "chưa có kế hoạch trả nợ cho \(unplanned.map(\.project.id).joined(separator: ", ")): \(recognized ? "có thể bị thu hồi Quyết định công nhận" : "không đủ điều kiện công nhận")",
                en: "no repayment plan for \(unplanned.map(\.project.id).joined(separator: ", ")): \(recognized ? "the recognition can be revoked" : "it cannot be recognized")"))
        }
        return Finding(rule: Rules.recognizedUnitHasDebt, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id),
                       severity: unplanned.isEmpty ? .warning : .critical, values: values)
    }

    static func legacyDebt(_ ledger: ProjectLedger, today: CivilDate, parameters: Parameters) -> Finding? {
        let cutoff = parameters.legacyCutoff
        guard today >= cutoff.adding(days: -parameters.legacyWarningDays) else { return nil }
        var byLevel: [BudgetLevel: Int64] = [:]
        for (key, amount) in ledger.owedToday where key.period == parameters.legacyPeriod && amount > 0 {
            byLevel[key.level, default: 0] += amount
        }
        guard !byLevel.isEmpty else { return nil }
        let lastDay = cutoff.adding(days: -1)
        var values = debtValues(byLevel)
        values["period"] = .text(parameters.legacyPeriod)
        values["cutoff"] = .date(cutoff)
        let late = today >= cutoff
        if late {
            values["days_overdue"] = .integer(Int64(lastDay.days(until: today)))
            values["deadline"] = .localized(LocalizedText(
                vi: "hạn trả là trước ngày \(cutoff.vietnamese), đã quá \(lastDay.days(until: today)) ngày",
                en: "it was due before \(cutoff), \(lastDay.days(until: today)) days ago"))
        } else {
            values["days_left"] = .integer(Int64(today.days(until: lastDay)))
            values["deadline"] = .localized(LocalizedText(
                vi: "phải trả xong trước ngày \(cutoff.vietnamese), còn \(today.days(until: lastDay)) ngày",
                en: "it must be cleared before \(cutoff), \(today.days(until: lastDay)) days left"))
        }
        return Finding(rule: Rules.legacyPeriodOutstanding, subject: subject(ledger.project),
                       severity: late ? .critical : .warning, values: values)
    }

    static func newDebt(_ unit: AdministrativeUnit, _ ledgers: [ProjectLedger], today: CivilDate) -> Finding? {
        let days = Set(ledgers.flatMap(\.snapshotDays)).filter { $0 <= today }.sorted()
        guard days.count >= 2 else { return nil }
        let latest = days[days.count - 1], previous = days[days.count - 2]
        func total(_ day: CivilDate) -> Int64 { ledgers.reduce(0) { $0 + $1.outstanding(on: day).values.reduce(0, +) } }
        let now = total(latest), before = total(previous)
        guard now > before else { return nil }
        return Finding(rule: Rules.newDebt, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id), values: [
            "increase_vnd": .amountVND(now - before), "debt_vnd": .amountVND(now), "previous_debt_vnd": .amountVND(before),
            "debt_on": .date(latest), "previous_on": .date(previous),
        ])
    }

    /// The day on which a project has been allocated for `settlement_years` years. The seed's
    /// "quá 03 năm kể từ ngày phân bổ vốn" is passed only from the day after.
    static func settlementMark(_ project: Project, _ parameters: Parameters) -> CivilDate? {
        project.allocatedOn.map { $0.adding(years: parameters.settlementYears) }
    }

    static func settlement(_ ledger: ProjectLedger, today: CivilDate, parameters: Parameters) -> Finding? {
        let project = ledger.project
        guard let allocated = project.allocatedOn, let mark = settlementMark(project, parameters),
              project.settlementApprovedOn.map({ $0 > today }) ?? true else { return nil }
        guard today >= mark.adding(days: -parameters.settlementWarningDays) else { return nil }
        // What moves is the upper budgets' part of the debt still owed, not their whole share of
        // the project: what they have already paid is not debt.
        let owed = ledger.owedToday.filter { $0.key.level.isUpper }.values.reduce(0, +)
        let shifted = Value.amountVND(owed)
        var values: [String: Value] = [
            "allocated_on": .date(allocated), "mark_date": .date(mark), "years": .integer(Int64(parameters.settlementYears)),
            "upper_debt_vnd": shifted, "total_vnd": .amountVND(project.totalVND),
        ]
        let years = parameters.settlementYearsText
        let late = today > mark
        let debtVI = owed > 0 ? "phần nợ ngân sách trung ương/ngân sách tỉnh \(shifted.formatted(in: .vi))" : "phần nợ ngân sách trung ương/ngân sách tỉnh (hiện là 0 đ)"
        let debtEN = "the central and provincial part of the debt (\(shifted.formatted(in: .en)))"
        if late {
            values["days_overdue"] = .integer(Int64(mark.days(until: today)))
            values["status"] = .localized(LocalizedText(
                vi: "đã quá \(years) năm từ ngày \(mark.vietnamese): \(debtVI) chuyển sang nợ ngân sách địa phương, UBND cấp huyện, xã bố trí thay; công trình không được bố trí thêm vốn trung ương, tỉnh",
                en: "more than \(parameters.settlementYears) years since \(mark): \(debtEN) becomes the local budget's debt, for the district and commune to fund; no more central or provincial money may go to it"))
        } else {
            values["days_left"] = .integer(Int64(today.days(until: mark)))
            values["status"] = .localized(LocalizedText(
                vi: "sau ngày \(mark.vietnamese) là quá \(years) năm (còn \(today.days(until: mark)) ngày); nếu chưa quyết toán, \(debtVI) chuyển sang nợ ngân sách địa phương",
                en: "after \(mark) it is more than \(parameters.settlementYears) years (\(today.days(until: mark)) days left); without a settlement \(debtEN) becomes the local budget's debt"))
        }
        return Finding(rule: Rules.settlementOverdue, subject: subject(project), severity: late ? .critical : .warning, values: values)
    }

    /// Central or provincial money paid after the mark while no settlement was approved: the
    /// cumulative upper disbursement grew between the mark and today (or the settlement day).
    static func upperMoneyAfterMark(_ ledger: ProjectLedger, today: CivilDate, paid paidByToday: [BudgetLevel: Int64],
                                    parameters: Parameters) -> Finding? {
        let project = ledger.project
        guard let allocated = project.allocatedOn, let mark = settlementMark(project, parameters), today > mark else { return nil }
        let end = project.settlementApprovedOn.map { min($0.adding(days: -1), today) } ?? today
        guard end > mark else { return nil }
        func upper(_ day: CivilDate) -> Int64 {
            (day == today ? paidByToday : ledger.disbursed(on: day)).filter { $0.key.isUpper }.values.reduce(0, +)
        }
        let paid = upper(end) - upper(mark)
        guard paid > 0 else { return nil }
        let lastPaid = project.disbursements.filter { $0.budgetLevel.isUpper && $0.on > mark && $0.on <= end }.map(\.on).max() ?? end
        return Finding(rule: Rules.upperMoneyAfterMark, subject: subject(project), values: [
            "allocated_on": .date(allocated), "mark_date": .date(mark), "after_mark_vnd": .amountVND(paid), "last_paid_on": .date(lastPaid),
        ])
    }

    /// Works in use whose final settlement is still not approved `handover_settlement_days` later.
    static func handover(_ ledger: ProjectLedger, today: CivilDate, parameters: Parameters) -> Finding? {
        let project = ledger.project
        guard let handedOver = project.handoverOn, project.settlementApprovedOn.map({ $0 > today }) ?? true,
              handedOver.days(until: today) >= parameters.handoverSettlementDays else { return nil }
        return Finding(rule: Rules.handoverUnsettled, subject: subject(project), values: [
            "handover_on": .date(handedOver), "days_since_handover": .integer(Int64(handedOver.days(until: today))),
        ])
    }

    static func counterpart(_ ledger: ProjectLedger, paid: [BudgetLevel: Int64], parameters: Parameters) -> Finding? {
        let project = ledger.project
        // Sums in one pass each, without the filtered dictionaries: every project of a national
        // store goes through here.
        let (upperShare, localShare) = upperAndCounterpart(project.shares)
        guard upperShare > 0, localShare > 0 else { return nil }
        let (upperPaid, localPaid) = upperAndCounterpart(paid)
        // What the treasury may pay from the upper budgets: their share in the proportion the
        // counterpart has reached. Integer VND; rounded down, as the treasury would.
        let allowed = Int64((Double(min(localPaid, localShare)) / Double(localShare) * Double(upperShare)).rounded(.down))
        let ahead = upperPaid - allowed
        guard ahead > parameters.counterpartTolerance else { return nil }
        return Finding(rule: Rules.counterpartLagging, subject: subject(project), values: [
            "upper_disbursed_vnd": .amountVND(upperPaid), "local_disbursed_vnd": .amountVND(localPaid),
            "local_share_vnd": .amountVND(localShare), "local_percent": .percent(Double(localPaid) * 100 / Double(localShare)),
            "allowed_upper_vnd": .amountVND(allowed), "blocked_vnd": .amountVND(ahead),
        ])
    }

    /// The upper budgets' total and the counterpart's total of amounts per budget level.
    static func upperAndCounterpart(_ amounts: [BudgetLevel: Int64]) -> (upper: Int64, counterpart: Int64) {
        var upper: Int64 = 0, counterpart: Int64 = 0
        for (level, amount) in amounts {
            if level.isUpper { upper += amount } else if level.isCounterpart { counterpart += amount }
        }
        return (upper, counterpart)
    }
}
