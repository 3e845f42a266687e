import CheckKit
import Foundation

/// Keeping recognized units above the line: criteria lost or just at the threshold, stale or
/// missing re-assessments, communes below the minimum, districts with no recognized commune and
/// roadmap targets the months left cannot carry (000 §7; 001; 002 §II, §IV.4; 003 §2-3).
/// See the module's README.
public struct StandardsCheck: CheckModule {
    public init() {}

    enum Rules {
        static let criterionLost = Rule(
            id: "standards.criterion_lost", title: LocalizedText(vi: "Rớt tiêu chí", en: "Criterion lost"),
            defaultSeverity: .critical, messageID: "84004ab20c0b4888a7c61ea277989000",
            template: LocalizedText(
                vi: "{subject} (đạt {tier_name}): không còn đạt {lost_what} theo {set} (đánh giá {assessed_on}): {lost_detail}; có thể bị thu hồi Quyết định công nhận",
                en: "{subject} ({tier_name}): no longer meets {lost_what} of {set} (assessed {assessed_on}): {lost_detail}; the recognition can be revoked"),
            source: RuleSource("002", "IV.10"))
        static let atThreshold = Rule(
            id: "standards.at_threshold", title: LocalizedText(vi: "Tiêu chí chạm ngưỡng", en: "Criterion at the threshold"),
            defaultSeverity: .warning, messageID: "1cf1a7cec19e42d3b4d55986fc75f278",
            template: LocalizedText(
                vi: "{subject} (đạt {tier_name}): {count_what} chỉ ở mức chạm ngưỡng: {criteria_detail}",
                en: "{subject} ({tier_name}): {count_what} only just at the threshold: {criteria_detail}"),
            source: RuleSource("000", "7"))
        static let assessmentStale = Rule(
            id: "standards.assessment_stale", title: LocalizedText(vi: "Lâu chưa đánh giá lại", en: "Assessment stale"),
            defaultSeverity: .warning, messageID: "22e6f30dce7746bba980d56c4ec26e6a",
            template: LocalizedText(
                vi: "{subject}: đã đạt chuẩn nhưng không có đánh giá tiêu chí nào trong {max_age_months} tháng qua (lần gần nhất: {last})",
                en: "{subject}: recognized but not assessed in the last {max_age_months} months (latest: {last})"),
            source: RuleSource("002", "IV.10"))
        static let notReassessed = Rule(
            id: "standards.not_reassessed", title: LocalizedText(vi: "Chưa rà soát theo bộ tiêu chí mới", en: "Not re-assessed under the current set"),
            defaultSeverity: .warning, messageID: "c7dea3ecda3b40bc9c24971bac1c5fb1",
            template: LocalizedText(
                vi: "{subject}: đạt {tier_name} theo {old_set}, chưa được đánh giá theo {set}; hạn rà soát trước ngày {due_before}",
                en: "{subject}: recognized {tier_name} under {old_set}, not yet assessed under {set}; due before {due_before}"),
            source: RuleSource("002", "II.1.a"))
        static let belowMinimum = Rule(
            id: "standards.below_minimum", title: LocalizedText(vi: "Xã dưới mức tiêu chí tối thiểu", en: "Commune below the minimum"),
            defaultSeverity: .warning, messageID: "9465fa9363344b6d9923b57b73a31257",
            template: LocalizedText(
                vi: "{subject}: mới đạt {met_count}/{criteria_count} tiêu chí, dưới mức {minimum} tiêu chí phải đạt đến {minimum_by}",
                en: "{subject}: meets {met_count} of {criteria_count} criteria, below the {minimum} required by {minimum_by}"),
            source: RuleSource("002", "II.4"))
        static let districtWithoutRecognizedCommune = Rule(
            id: "standards.district_without_recognized_commune", title: LocalizedText(vi: "Huyện chưa có xã đạt chuẩn", en: "District without a recognized commune"),
            defaultSeverity: .warning, messageID: "890d3278d87c485399d3e51c8d9ff17d",
            template: LocalizedText(
                vi: "{subject}: chưa có xã nào trong {commune_count} xã đạt chuẩn NTM; mục tiêu đến {target_date}",
                en: "{subject}: none of its {commune_count} communes is recognized NTM; target date {target_date}"),
            source: RuleSource("002", "II.4"))
        static let roadmapAtRisk = Rule(
            id: "standards.roadmap_at_risk", title: LocalizedText(vi: "Lộ trình có nguy cơ không đạt", en: "Roadmap target at risk"),
            defaultSeverity: .warning, messageID: "edda49c32b8b4fa493ea2a383ff212f8",
            template: LocalizedText(
                vi: "{subject}: phấn đấu đạt {tier_name} năm {target_year} nhưng còn {unmet_count} tiêu chí chưa đạt với {months_left} tháng còn lại: {unmet_detail}",
                en: "{subject}: aims at {tier_name} in {target_year} with {unmet_count} criteria unmet and {months_left} months left: {unmet_detail}"),
            source: RuleSource("002", "IV.4.a"))
        static let badData = BadData(
            module: "standards", messageID: "4213df5fade84df187aed7287b11cb7e",
            title: LocalizedText(vi: "Dữ liệu đánh giá không dùng được", en: "Unusable assessment data"),
            record: LocalizedText(vi: "Đánh giá {subject}", en: "Assessment {subject}"),
            fix: LocalizedText(vi: "sửa dòng này trong kho dữ liệu", en: "fix this row in the store"))
        static let all = [criterionLost, atThreshold, assessmentStale, notReassessed, belowMinimum,
                          districtWithoutRecognizedCommune, roadmapAtRisk, badData.rule]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "standards", version: "2.0.0",
            summary: LocalizedText(vi: "Theo dõi việc duy trì và nâng chất các tiêu chí của đơn vị đạt chuẩn",
                                   en: "Watches that recognized units keep their criteria, and that units on the roadmap can make it"),
            settings: Parameters.declared,
            rules: Rules.all)
    }

    public func validate(_ settings: Settings) throws {
        _ = try Parameters(settings)
    }

    struct Parameters {
        static let margin = Setting<Double>(
            "margin_percent", .number(0...100), default: 5,
            help: "A met threshold criterion within this percentage of its threshold is at_threshold.")
        static let margins = Setting<[String: Double]>(
            "margins", .table, written: .table([:]),
            help: "Per-criterion margins in percent overriding margin_percent: {\"10\": 10, \"17.11\": 3}.")
        static let maxAgeMonths = Setting<Int>(
            "max_age_months", .integer(1...120), default: 12,
            help: "A recognized unit needs an assessment newer than this.")
        static let reassessmentDue = Setting<CivilDate>(
            "reassessment_due", .date, default: CivilDate(year: 2024, month: 3, day: 30)!,
            help: "Units recognized under an older set must be assessed under the set in force before this date.")
        static let minimumCriteria = Setting<Int>(
            "minimum_criteria", .integer(0...100), default: 15,
            help: "The fewest criteria a commune may meet by minimum_by.")
        static let minimumBy = Setting<CivilDate>(
            "minimum_by", .date, default: CivilDate(year: 2025, month: 12, day: 31)!,
            help: "The date by which no commune may be below minimum_criteria (critical after it).")
        static let minimumWarningDays = Setting<Int>(
            "minimum_warning_days", .integer(0...3660), default: 730,
            help: "Days before minimum_by from which a commune below the minimum is a warning.")
        static let minimumLevel = Setting<String>(
            "minimum_level", .text(choices: []), default: "commune",
            help: "The level below_minimum applies to.")
        static let districtLevel = Setting<String>(
            "district_level", .text(choices: []), default: "district",
            help: "The level district_without_recognized_commune applies to; a two-tier province has none.")
        static let districtTargetDate = Setting<CivilDate>(
            "district_target_date", .date, default: CivilDate(year: 2024, month: 12, day: 31)!,
            help: "Every district must have a recognized commune by this date (critical after it).")
        static let criteriaPerMonth = Setting<Double>(
            "criteria_per_month", .number(0.01...100), default: 1,
            help: "How many unmet criteria a unit can bring up to standard per month left before its target year ends.")
        static let declared = [margin.spec, margins.spec, maxAgeMonths.spec, reassessmentDue.spec, minimumCriteria.spec,
                               minimumBy.spec, minimumWarningDays.spec, minimumLevel.spec, districtLevel.spec,
                               districtTargetDate.spec, criteriaPerMonth.spec]

        let margin: Double
        let margins: [String: Double]
        let maxAgeMonths: Int
        let reassessmentDue: CivilDate
        let minimumCriteria: Int
        let minimumBy: CivilDate
        let minimumWarningDays: Int
        let minimumLevel: String
        let districtLevel: String
        let districtTargetDate: CivilDate
        let criteriaPerMonth: Double

        init(_ settings: Settings) throws(SettingsError) {
            margin = try settings[Self.margin]
            margins = try settings[Self.margins]
            if let (code, bad) = margins.first(where: { !(0...100).contains($0.value) }).map({ ($0.key, $0.value) }) {
                throw SettingsError(key: "margins.\(code)", message: "must be a percentage from 0 to 100, found \(bad)")
            }
            maxAgeMonths = try settings[Self.maxAgeMonths]
            reassessmentDue = try settings[Self.reassessmentDue]
            minimumCriteria = try settings[Self.minimumCriteria]
            minimumBy = try settings[Self.minimumBy]
            minimumWarningDays = try settings[Self.minimumWarningDays]
            minimumLevel = try settings[Self.minimumLevel]
            districtLevel = try settings[Self.districtLevel]
            districtTargetDate = try settings[Self.districtTargetDate]
            criteriaPerMonth = try settings[Self.criteriaPerMonth]
        }
    }

    struct Data {
        let units: [String: AdministrativeUnit]
        let sets: [CriteriaSet]
        let assessments: [Assessment]
        let recognitions: [Recognition]
        let roadmap: [RoadmapEntry]
    }

    public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let store = context.store
        let data = Data(units: try await store.unitsByID(), sets: try await store.criteriaSets(),
                        assessments: try await store.assessments(), recognitions: try await store.recognitions(),
                        roadmap: try await store.roadmap())
        return Self.findings(today: context.today, parameters: try Parameters(context.settings), data: data)
    }

    /// The rules over plain values, so tests need no store.
    static func findings(today: CivilDate, parameters: Parameters, data: Data) -> [Finding] {
        var findings = badAssessments(data)
        let territory = Territory(units: data.units, roadmap: data.roadmap, on: today)
        let standing = Standing(recognitions: data.recognitions, roadmap: territory.roadmap)
        func setInForce(level: String, tier: String) -> CriteriaSet? { data.sets.applicable(level: level, tier: tier, on: today) }
        // Positions, not copies: grouped copies of a national store's 1.9 million assessments
        // were 290 MB (issue 21).
        let assessmentsByUnit = Dictionary(grouping: data.assessments.indices) { data.assessments[$0].unitID }
        let recognitionsByUnit = Dictionary(grouping: data.recognitions, by: \.unitID)
        var orders: [String: CriteriaOrder] = [:]
        func order(of set: CriteriaSet) -> CriteriaOrder {
            if let known = orders[set.id] { return known }
            let order = CriteriaOrder(set)
            orders[set.id] = order
            return order
        }

        for unit in territory.current {
            let since = territory.countsFrom[unit.id]
            let own = (assessmentsByUnit[unit.id] ?? []).compactMap { position in
                let assessment = data.assessments[position]
                return (since.map { assessment.assessedOn >= $0 } ?? true) ? assessment : nil
            }
            let subject = Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id)
            // A commune's held tier, its minimum and its roadmap target are usually judged under
            // one set: its results are computed once per unit and set.
            var resultsBySet: [String: [String: CriterionResult]] = [:]
            func resultsUnder(_ set: CriteriaSet) -> [String: CriterionResult] {
                if let known = resultsBySet[set.id] { return known }
                let results = set.results(for: unit, in: own, since: since)
                resultsBySet[set.id] = results
                return results
            }
            for tier in standing.heldTiers(of: unit.id).sorted() {
                guard let set = setInForce(level: unit.level, tier: tier) else { continue }
                let results = resultsUnder(set)
                if results.isEmpty {
                    let recognition = (recognitionsByUnit[unit.id] ?? []).filter { $0.tier == tier && $0.revokedOn == nil }
                        .max { $0.recognizedOn < $1.recognizedOn }
                    if let old = recognition?.setID, old != set.id {
                        findings.append(notReassessed(subject, tier: tier, oldSet: data.sets.first { $0.id == old }?.name.vi ?? old,
                                                      set: set, today: today, parameters: parameters))
                    }
                    continue
                }
                findings += judge(subject, tier: tier, set: set, results: results, order: order(of: set), parameters: parameters)
            }
            if standing.isRecognized(unit.id) {
                findings += stale(subject, assessments: own, today: today, parameters: parameters)
            }
            if unit.level == parameters.minimumLevel, let set = setInForce(level: unit.level, tier: "ntm") {
                findings += belowMinimum(subject, set: set, results: resultsUnder(set),
                                         today: today, parameters: parameters)
            }
            for target in standing.openTargets(of: unit.id) where target.targetYear >= today.year {
                guard let set = setInForce(level: unit.level, tier: target.tier) else { continue }
                findings += roadmapAtRisk(subject, target: target, set: set, results: resultsUnder(set), order: order(of: set),
                                          today: today, parameters: parameters)
            }
        }
        findings += districtsWithoutRecognizedCommune(territory, standing: standing, today: today, parameters: parameters)
        return findings
    }

    static func judge(_ subject: Subject, tier: String, set: CriteriaSet, results: [String: CriterionResult],
                      order: CriteriaOrder, parameters: Parameters) -> [Finding] {
        let ordered = order.codes.compactMap { results[$0] }
        var findings: [Finding] = []
        var values = tierValues(tier)
        values["set_id"] = .text(set.id)
        values["set"] = .localized(set.name)
        values["assessed_on"] = .date(ordered.map(\.assessment.assessedOn).max()!)

        let lost = ordered.filter { !$0.met }
        if !lost.isEmpty {
            var lostValues = values
            lostValues["lost_count"] = .integer(Int64(lost.count))
            lostValues["lost_what"] = .localized(howMany(lost))
            lostValues["lost"] = .list(lost.map(\.criterion.code))
            lostValues["lost_detail"] = .localized(describe(lost))
            findings.append(Finding(rule: Rules.criterionLost, subject: subject, labels: ["tier": tier], values: lostValues))
        }

        let close = ordered.filter { result in
            guard result.met, let threshold = result.threshold, let value = result.assessment.value,
                  case .threshold(_, _, let direction, _) = result.criterion.measure else { return false }
            let margin = abs(threshold) * (parameters.margins[result.criterion.code] ?? parameters.margin) / 100
            return direction == .atLeast ? value < threshold + margin : value > threshold - margin
        }
        if !close.isEmpty {
            var closeValues = values
            closeValues["count"] = .integer(Int64(close.count))
            closeValues["count_what"] = .localized(howMany(close))
            closeValues["criteria"] = .list(close.map(\.criterion.code))
            closeValues["criteria_detail"] = .localized(describe(close))
            findings.append(Finding(rule: Rules.atThreshold, subject: subject, labels: ["tier": tier], values: closeValues))
        }
        return findings
    }

    static func notReassessed(_ subject: Subject, tier: String, oldSet: String, set: CriteriaSet, today: CivilDate,
                              parameters: Parameters) -> Finding {
        var values = tierValues(tier)
        values["old_set"] = .text(oldSet)
        values["set"] = .localized(set.name)
        values["due_before"] = .date(parameters.reassessmentDue)
        return Finding(rule: Rules.notReassessed, subject: subject, severity: today >= parameters.reassessmentDue ? .critical : .warning,
                       labels: ["tier": tier], values: values)
    }

    static func stale(_ subject: Subject, assessments: [Assessment], today: CivilDate, parameters: Parameters) -> [Finding] {
        let latest = assessments.map(\.assessedOn).max()
        if let latest, latest > today.adding(months: -parameters.maxAgeMonths) { return [] }
        var values: [String: Value] = ["max_age_months": .integer(Int64(parameters.maxAgeMonths))]
        if let latest {
            values["last_assessed_on"] = .date(latest)
            values["last"] = .localized(LocalizedText(vi: latest.vietnamese, en: latest.description))
        } else {
            values["last"] = .localized(LocalizedText(vi: "chưa có", en: "none"))
        }
        return [Finding(rule: Rules.assessmentStale, subject: subject, values: values)]
    }

    static func belowMinimum(_ subject: Subject, set: CriteriaSet, results: [String: CriterionResult], today: CivilDate,
                             parameters: Parameters) -> [Finding] {
        guard !results.isEmpty, today >= parameters.minimumBy.adding(days: -parameters.minimumWarningDays) else { return [] }
        let criteria = set.topLevelCriteria
        let met = criteria.filter { results[$0.code]?.met == true }.count
        guard met < parameters.minimumCriteria else { return [] }
        return [Finding(rule: Rules.belowMinimum, subject: subject, severity: today > parameters.minimumBy ? .critical : .warning, values: [
            "met_count": .integer(Int64(met)), "criteria_count": .integer(Int64(criteria.count)),
            "minimum": .integer(Int64(parameters.minimumCriteria)), "minimum_by": .date(parameters.minimumBy), "set_id": .text(set.id),
        ])]
    }

    static func roadmapAtRisk(_ subject: Subject, target: RoadmapEntry, set: CriteriaSet, results: [String: CriterionResult],
                              order: CriteriaOrder, today: CivilDate, parameters: Parameters) -> [Finding] {
        // A unit never assessed under the set cannot be judged here; assessment rules and the
        // deadline module's dossier stages speak for it.
        guard !results.isEmpty else { return [] }
        let unmet = order.topLevel.filter { results[$0.code]?.met != true }
        let yearEnd = CivilDate(year: target.targetYear, month: 12, day: 31)!
        let monthsLeft = max(0, (yearEnd.year - today.year) * 12 + (yearEnd.month - today.month) + 1)
        guard !unmet.isEmpty, Double(unmet.count) > Double(monthsLeft) * parameters.criteriaPerMonth else { return [] }
        var values = tierValues(target.tier)
        values["target_year"] = .text(String(target.targetYear))
        values["unmet_count"] = .integer(Int64(unmet.count))
        values["months_left"] = .integer(Int64(monthsLeft))
        values["unmet"] = .list(unmet.map(\.code))
        values["unmet_detail"] = .localized(LocalizedText(
            vi: unmet.map { "\($0.code) \($0.name.vi)" }.joined(separator: "; "),
            en: unmet.map { "\($0.code) \($0.name.en)" }.joined(separator: "; ")))
        return [Finding(rule: Rules.roadmapAtRisk, subject: subject, labels: ["tier": target.tier], values: values)]
    }

    static func districtsWithoutRecognizedCommune(_ territory: Territory, standing: Standing, today: CivilDate,
                                                  parameters: Parameters) -> [Finding] {
        let communesByParent = Dictionary(grouping: territory.current.filter { $0.level == parameters.minimumLevel }) { $0.parentID ?? "" }
        var findings: [Finding] = []
        for district in territory.current where district.level == parameters.districtLevel {
            let communes = communesByParent[district.id] ?? []
            guard !communes.isEmpty, !communes.contains(where: { standing.heldTiers(of: $0.id).contains("ntm") }) else { continue }
            findings.append(Finding(
                rule: Rules.districtWithoutRecognizedCommune, subject: Subject(kind: "unit", id: district.id, name: district.name, unitID: district.id),
                severity: today > parameters.districtTargetDate ? .critical : .warning,
                values: ["commune_count": .integer(Int64(communes.count)), "target_date": .date(parameters.districtTargetDate)]))
        }
        return findings
    }

    static func badAssessments(_ data: Data) -> [Finding] {
        // Each set's criteria by code (the first of a code), whether each is met-or-not: searching
        // a set's criteria for each of a national store's assessments was most of this scan.
        let sets = Dictionary(data.sets.map { set in
            (set.id, Dictionary(set.criteria.map { ($0.code, $0.measure == .boolean) }, uniquingKeysWith: { first, _ in first }))
        }, uniquingKeysWith: { first, _ in first })
        var findings: [Finding] = []
        // The store hands assessments ordered by unit and set: a row mostly asks what the row
        // before it asked, and comparing two ids costs less than looking one up.
        var unit: (id: String, known: Bool)?
        var set: (id: String, criteria: [String: Bool]?)?
        for assessment in data.assessments {
            if assessment.unitID != unit?.id { unit = (assessment.unitID, data.units.index(forKey: assessment.unitID) != nil) }
            if assessment.setID != set?.id { set = (assessment.setID, sets[assessment.setID]) }
            let problem: LocalizedText?
            if unit?.known != true {
                problem = LocalizedText(vi: "đơn vị '\(assessment.unitID)' không có trong danh mục", en: "the unit '\(assessment.unitID)' is not a known unit")
            } else if let criteria = set?.criteria {
                if let isBoolean = criteria[assessment.criterionCode] {
                    if isBoolean, let value = assessment.value, value != 0 && value != 1 {
                        problem = LocalizedText(vi: "tiêu chí \(assessment.criterionCode) là đạt/không đạt nhưng có giá trị \(value)",
                                                en: "criterion \(assessment.criterionCode) is met or not, but has the value \(value)")
                    } else {
                        problem = nil
                    }
                } else {
                    problem = LocalizedText(vi: "bộ tiêu chí \(assessment.setID) không có tiêu chí \(assessment.criterionCode)",
                                            en: "the set \(assessment.setID) has no criterion \(assessment.criterionCode)")
                }
            } else {
                problem = LocalizedText(vi: "không có bộ tiêu chí '\(assessment.setID)'", en: "no criteria set '\(assessment.setID)'")
            }
            guard let problem else { continue }
            let id = "\(assessment.unitID)/\(assessment.setID)/\(assessment.criterionCode)@\(assessment.assessedOn)"
            findings.append(Rules.badData.finding(Subject(kind: "assessment", id: id, name: id, unitID: data.units[assessment.unitID]?.id),
                                                  [problem]))
        }
        return findings
    }

    /// "2 tiêu chí", "1 tiêu chí và 1 chỉ tiêu": a sub-indicator (17.11) is a chỉ tiêu of its
    /// criterion, not one more tiêu chí.
    static func howMany(_ results: [CriterionResult]) -> LocalizedText {
        let criteria = results.filter { $0.criterion.parentCode == nil }.count
        let indicators = results.count - criteria
        var vi: [String] = [], en: [String] = []
        if criteria > 0 { vi.append("\(criteria) tiêu chí"); en.append(criteria == 1 ? "1 criterion" : "\(criteria) criteria") }
        if indicators > 0 { vi.append("\(indicators) chỉ tiêu"); en.append(indicators == 1 ? "1 sub-indicator" : "\(indicators) sub-indicators") }
        return LocalizedText(vi: vi.joined(separator: " và "), en: en.joined(separator: " and "))
    }

    static func describe(_ results: [CriterionResult]) -> LocalizedText {
        LocalizedText(vi: results.map { describe($0, in: .vi) }.joined(separator: "; "),
                      en: results.map { describe($0, in: .en) }.joined(separator: "; "))
    }

    static func describe(_ result: CriterionResult, in language: Language) -> String {
        let kind = result.criterion.parentCode == nil ? "" : (language == .vi ? "chỉ tiêu " : "sub-indicator ")
        let name = "\(kind)\(result.criterion.code) \(result.criterion.name.text(in: language))"
        guard let value = result.assessment.value, let threshold = result.threshold,
              case .threshold(_, let unit, let direction, _) = result.criterion.measure else { return name }
        // Percentages are written as Value.percent writes them ("22%", "92,5%"); other units after a space.
        let number = { (x: Double) in
            unit == "%" ? Value.percent(x).formatted(in: language) : Value.number(x).formatted(in: language)
        }
        let measured = unit == "%" || unit.isEmpty ? number(value) : "\(number(value)) \(unit)"
        let sign = direction == .atLeast ? "≥" : "≤"
        return language == .vi ? "\(name): \(measured) (yêu cầu \(sign) \(number(threshold)))"
                               : "\(name): \(measured) (required \(sign) \(number(threshold)))"
    }

    static func tierValues(_ tier: String) -> [String: Value] {
        ["tier": .text(tier), "tier_name": .localized(Standing.tierName(tier))]
    }

    /// "2" before "10", "17" before "17.11".
    static func codeOrder(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
        return x.lexicographicallyPrecedes(y)
    }
}

/// A set's criteria in code order, sorted once per set: sorting every judged unit's results
/// with ``StandardsCheck/codeOrder(_:_:)`` split each code into numbers for every comparison.
struct CriteriaOrder {
    /// The set's codes in code order, each once.
    let codes: [String]
    /// The criteria (not sub-indicators), in code order.
    let topLevel: [Criterion]

    init(_ set: CriteriaSet) {
        let sorted = set.criteria.sorted { StandardsCheck.codeOrder($0.code, $1.code) }
        var seen: Set<String> = []
        codes = sorted.map(\.code).filter { seen.insert($0).inserted }
        topLevel = sorted.filter { $0.parentCode == nil }
    }
}
