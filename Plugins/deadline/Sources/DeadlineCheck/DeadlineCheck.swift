import CheckKit
import Foundation

/// Dated obligations, recurring reports and recognition-dossier stages: reminds before the last
/// day, raises what is overdue, escalates to the level above, and warns a later stage when the
/// earlier one slips. See the module's README for every rule and setting.
public struct DeadlineCheck: CheckModule {
    public init() {}

    enum Rules {
        static let dueSoon = Rule(
            id: "deadline.due_soon", title: LocalizedText(vi: "Sắp đến hạn", en: "Deadline approaching"),
            defaultSeverity: .info, messageID: "a5435d4bf1b849a0a658d53590f44917",
            template: LocalizedText(
                vi: "{subject}: còn {days_left} ngày, ngày cuối {last_day}; chủ trì: {responsible}",
                en: "{subject}: {days_left} days left, last day {last_day}; responsible: {responsible}"),
            source: RuleSource("002", "V"))
        static let overdue = Rule(
            id: "deadline.overdue", title: LocalizedText(vi: "Quá hạn", en: "Overdue"),
            defaultSeverity: .critical, messageID: "1a1cd70334ec4e5bbe4a0b3033c122c9",
            template: LocalizedText(
                vi: "{subject}: quá hạn {days_overdue} ngày (ngày cuối {last_day}); chủ trì: {responsible}; trình: {submits_to}",
                en: "{subject}: {days_overdue} days overdue (last day {last_day}); responsible: {responsible}; submit to: {submits_to}"),
            source: RuleSource("002", "V"))
        static let escalated = Rule(
            id: "deadline.overdue_escalated", title: LocalizedText(vi: "Quá hạn, báo cấp trên", en: "Overdue, escalated"),
            defaultSeverity: .critical, messageID: "cde2581165ea4d2082b80663f8370677",
            template: LocalizedText(
                vi: "{subject}: quá hạn {days_overdue} ngày, đề nghị UBND {escalation_target_name} đôn đốc {responsible}",
                en: "{subject}: {days_overdue} days overdue; the People's Committee of {escalation_target_name} is asked to follow up with {responsible}"),
            source: RuleSource("002", "IV.10"))
        static let stageAtRisk = Rule(
            id: "deadline.stage_at_risk", title: LocalizedText(vi: "Bước sau có nguy cơ trễ", en: "Later stage at risk"),
            defaultSeverity: .warning, messageID: "db4ed58095c14647955b17b785ec8154",
            template: LocalizedText(
                vi: "{subject}: có nguy cơ trễ hạn ({days_left} ngày còn lại) vì bước trước chưa xong: {earlier_stage}, ngày cuối {earlier_last_day}",
                en: "{subject}: at risk ({days_left} days left) because the earlier stage is not done: {earlier_stage}, last day {earlier_last_day}"),
            source: RuleSource("002", "II.1"))
        static let completedLate = Rule(
            id: "deadline.completed_late", title: LocalizedText(vi: "Hoàn thành trễ hạn", en: "Completed late"),
            defaultSeverity: .notice, messageID: "c0899dc98a1f47b28b992b063dda94a5",
            template: LocalizedText(
                vi: "{subject}: hoàn thành ngày {completed_on}, trễ {days_late} ngày so với ngày cuối {last_day}",
                en: "{subject}: completed on {completed_on}, {days_late} days after the last day {last_day}"),
            source: RuleSource("002", "IV.10"))
        static let badData = BadData(
            module: "deadline", messageID: "1764871c9ddf488c9dbf467b829778da",
            title: LocalizedText(vi: "Dữ liệu nhiệm vụ không dùng được", en: "Unusable obligation data"),
            record: LocalizedText(vi: "Nhiệm vụ {subject}", en: "Obligation {subject}"),
            fix: LocalizedText(vi: "sửa dòng này trong kho dữ liệu", en: "fix this row in the store"))
        static let calendarMissing = Rule(
            id: "deadline.calendar_missing", title: LocalizedText(vi: "Thiếu lịch hồ sơ công nhận", en: "Dossier calendar missing"),
            defaultSeverity: .warning, messageID: "5b0f6c1e9a7d4e2f8c3b1a0d9e8f7a61",
            template: LocalizedText(
                vi: "Lộ trình năm {year} có {unit_count} đơn vị ({units}) nhưng thiết lập dossier_calendar không có ngày cho năm này: các bước hồ sơ không được theo dõi; thêm \"{year}\" vào dossier_calendar",
                en: "The {year} roadmap has {unit_count} units ({units}) but the dossier_calendar setting has no dates for that year: their dossier stages are not watched; add \"{year}\" to dossier_calendar"),
            source: RuleSource("ntmwatch", "Check modules"))
        static let all = [dueSoon, overdue, escalated, stageAtRisk, completedLate, badData.rule, calendarMissing]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "deadline", version: "2.0.0",
            summary: LocalizedText(vi: "Theo dõi thời hạn nhiệm vụ, báo cáo định kỳ và các bước hồ sơ công nhận",
                                   en: "Watches dated obligations, recurring reports and recognition-dossier stages"),
            settings: Parameters.declared,
            rules: Rules.all)
    }

    struct Parameters {
        static let reminderDays = Setting<[Int]>(
            "reminder_days", .list(of: .integer(0...366)), default: [30, 14, 7, 3, 1],
            help: "Days before the last day on which an open obligation is due soon; an obligation's own reminder_days override it.")
        static let warningWithin = Setting<Int>(
            "warning_within_days", .integer(0...366), default: 7,
            help: "due_soon is a warning from this many days before the last day (info before, critical on the last day).")
        static let escalateAfter = Setting<Int>(
            "escalate_after_days", .integer(0...366), default: 7,
            help: "Days overdue after which the obligation is escalated to the responsible unit's parent.")
        static let stageMargin = Setting<Int>(
            "stage_margin_days", .integer(0...366), default: 10,
            help: "A later stage is at risk when its earlier stage is still open with fewer days than this left.")
        static let lateNotice = Setting<Int>(
            "late_notice_days", .integer(1...366), default: 30,
            help: "How long a late completion stays on record as completed_late.")
        static let lookback = Setting<Int>(
            "lookback_days", .integer(1...3660), default: 90,
            help: "Occurrences of recurring obligations older than this are no longer reported.")
        static let calendar = Setting<DossierCalendar>(
            "dossier_calendar", .table, written: DossierCalendar.seedDefault,
            help: "Dossier stage dates per roadmap year, or year/tier: {\"2024\": {commune_to_district: 2024-10-30, district_to_province: 2024-11-30}}.")
        static let declared = [reminderDays.spec, warningWithin.spec, escalateAfter.spec, stageMargin.spec, lateNotice.spec,
                               lookback.spec, calendar.spec]

        let reminderDays: [Int]
        let warningWithin: Int
        let escalateAfter: Int
        let stageMargin: Int
        let lateNotice: Int
        let lookback: Int
        let calendar: DossierCalendar

        init(_ settings: Settings) throws(SettingsError) {
            reminderDays = try settings[Self.reminderDays]
            warningWithin = try settings[Self.warningWithin]
            escalateAfter = try settings[Self.escalateAfter]
            stageMargin = try settings[Self.stageMargin]
            lateNotice = try settings[Self.lateNotice]
            lookback = try settings[Self.lookback]
            calendar = try settings[Self.calendar]
        }
    }

    public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let parameters = try Parameters(context.settings)
        let store = context.store
        let units = try await store.unitsByID()
        return Self.findings(
            today: context.today, parameters: parameters, units: units,
            obligations: try await store.obligations(), roadmap: try await store.roadmap(),
            recognitions: try await store.recognitions(), submissions: try await store.dossierSubmissions())
    }

    /// The rules over plain values, so tests need no store.
    static func findings(today: CivilDate, parameters: Parameters, units: [String: AdministrativeUnit],
                         obligations: [Obligation], roadmap: [RoadmapEntry], recognitions: [Recognition],
                         submissions: [DossierSubmission]) -> [Finding] {
        let map = UnitMap(units)
        var findings: [Finding] = []
        var duties: [Duty] = []
        let horizon = (parameters.reminderDays.max() ?? 0) + 1
        let window = today.adding(days: -parameters.lookback)...today.adding(days: horizon)

        for obligation in obligations where obligation.status != "cancelled" {
            let subject = Subject(kind: "obligation", id: obligation.id, name: obligation.title.vi, unitID: nil)
            guard let schedule = obligation.schedule else {
                findings.append(Rules.badData.finding(subject, vi: "hạn '\(obligation.rawSchedule)' không phải ngày có thật hoặc bị trống",
                                        en: "the due date '\(obligation.rawSchedule)' is missing or not a real date"))
                continue
            }
            if let selectorText = obligation.appliesTo {
                do {
                    let selector = try UnitSelector(selectorText)
                    for unit in selector.matches(in: map, recognitions: recognitions, on: today) {
                        duties += Duty.from(obligation, schedule: schedule, window: window, unit: unit)
                    }
                } catch {
                    findings.append(Rules.badData.finding(subject, vi: "bộ chọn applies_to '\(selectorText)' không đọc được: \(error.reason.vi)",
                                            en: "the applies_to selector '\(selectorText)' is unreadable: \(error.reason.en)"))
                }
                continue
            }
            guard let unitID = obligation.responsibleUnitID else {
                duties += Duty.from(obligation, schedule: schedule, window: window, unit: nil)
                continue
            }
            guard let unit = map[unitID] else {
                findings.append(Rules.badData.finding(subject, vi: "đơn vị chủ trì '\(unitID)' không có trong danh mục đơn vị",
                                        en: "the responsible unit '\(unitID)' is not a known unit"))
                continue
            }
            // Occurrences due while the unit existed stay its own; later ones pass to its heir,
            // and die with a unit abolished without one (a district after 1/7/2025).
            let own = Duty.from(obligation, schedule: schedule, window: window, unit: unit)
            guard let end = unit.validTo, end < today else {
                duties += own
                continue
            }
            duties += own.filter { $0.occurrence.nominal <= end }
            if let heirID = map.heir(of: unitID, on: today), heirID != unitID, let heir = map[heirID] {
                duties += Duty.from(obligation, schedule: schedule, window: window, unit: heir).filter { $0.occurrence.nominal > end }
            }
        }

        let recognized = Set(recognitions.filter { $0.revokedOn == nil }.map { "\($0.unitID)/\($0.tier)" })
        var uncovered: [Int: [String]] = [:]
        // Each roadmap entry looks at its own unit's submissions: a scan of all of them per entry
        // grew with the square of a national roadmap (issue 21).
        let submissionsByUnit = Dictionary(grouping: submissions, by: \.unitID)
        for entry in map.roadmap(roadmap, on: today) where !recognized.contains("\(entry.unitID)/\(entry.tier)") {
            guard let unit = map[entry.unitID] else { continue }
            let stages = Duty.dossierStages(for: entry, unit: unit, map: map, calendar: parameters.calendar,
                                            submissions: submissionsByUnit[unit.id] ?? [])
            if parameters.calendar.stages(year: entry.targetYear, tier: entry.tier).isEmpty {
                uncovered[entry.targetYear, default: []].append(unit.name)
            }
            duties += stages
        }
        for (year, names) in uncovered.sorted(by: { $0.key < $1.key }) where year >= today.year {
            findings.append(Finding(
                rule: Rules.calendarMissing, subject: Subject(kind: "configuration", id: "dossier_calendar/\(year)", name: "dossier_calendar \(year)"),
                values: ["year": .text(String(year)), "unit_count": .integer(Int64(names.count)), "units": .list(names.sorted())]))
        }

        let byKey = Dictionary(grouping: duties, by: \.key)
        for duty in duties {
            findings += evaluate(duty, today: today, parameters: parameters, map: map, earlier: earlierStage(of: duty, in: byKey))
        }
        return findings
    }

    /// The occurrence of the duty this one waits on: the latest one due no later than this one.
    static func earlierStage(of duty: Duty, in byKey: [String: [Duty]]) -> Duty? {
        guard let key = duty.dependsOn else { return nil }
        return byKey[key]?.filter { $0.occurrence.nominal <= duty.occurrence.nominal }.max { $0.occurrence.nominal < $1.occurrence.nominal }
    }

    static func evaluate(_ duty: Duty, today: CivilDate, parameters: Parameters,
                         map: UnitMap, earlier: Duty?) -> [Finding] {
        let occurrence = duty.occurrence
        var values: [String: Value] = [
            "due_date": .date(occurrence.nominal), "last_day": .date(occurrence.lastDay),
            "responsible": .text(duty.responsible), "submits_to": .text(duty.submitsTo ?? "—"),
        ]
        if let basis = duty.legalBasis { values["legal_basis"] = .text(basis) }
        // The annotations `source` and `quote`: the person alerted sees where the duty is written.
        if let section = duty.section {
            values["source"] = .text([duty.legalBasis, "§\(section)"].compactMap { $0 }.joined(separator: " "))
        }
        if let quote = duty.quote { values["quote"] = .text(quote) }

        if let completion = duty.completion {
            let completedOn = CivilDate(completion.completedAt)
            guard occurrence.isLate(completion), completedOn.days(until: today) < parameters.lateNotice else { return [] }
            values["completed_on"] = .date(completedOn)
            values["days_late"] = .integer(Int64(occurrence.lastDay.days(until: completedOn)))
            return [Finding(rule: Rules.completedLate, subject: duty.subject, values: values)]
        }

        var findings: [Finding] = []
        let daysLeft = occurrence.daysLeft(on: today)
        if daysLeft < 0 {
            let daysOverdue = occurrence.daysOverdue(on: today)
            values["days_overdue"] = .integer(Int64(daysOverdue))
            findings.append(Finding(rule: Rules.overdue, subject: duty.subject, values: values))
            // The level above as it stands today: a commune of an abolished district escalates to
            // the province, a merged unit's late duty to its heir's parent.
            if daysOverdue > parameters.escalateAfter,
               let unitID = duty.subject.unitID, let current = map.heir(of: unitID, on: today),
               let parent = map.parent(of: current, on: today) {
                var escalated = values
                escalated["escalation_target_name"] = .text(parent.nameWithKind)
                findings.append(Finding(rule: Rules.escalated, subject: duty.subject,
                                        labels: ["escalation_target": parent.id], values: escalated))
            }
        } else if daysLeft <= (duty.reminderDays ?? parameters.reminderDays).max() ?? -1 {
            values["days_left"] = .integer(Int64(daysLeft))
            let severity: Severity = daysLeft == 0 ? .critical : daysLeft <= parameters.warningWithin ? .warning : .info
            findings.append(Finding(rule: Rules.dueSoon, subject: duty.subject, severity: severity, values: values))
        }

        if let earlier, earlier.isOpen {
            let earlierLeft = earlier.occurrence.daysLeft(on: today)
            if earlierLeft < 0 || daysLeft < parameters.stageMargin {
                var risk = values
                risk["days_left"] = .integer(Int64(daysLeft))
                risk["earlier_stage"] = .text(earlier.subject.name)
                risk["earlier_last_day"] = .date(earlier.occurrence.lastDay)
                findings.append(Finding(rule: Rules.stageAtRisk, subject: duty.subject, values: risk))
            }
        }
        return findings
    }
}
