import CheckKit
import Foundation

/// Residents' satisfaction with the programme's results and with administrative procedures:
/// a rate below the threshold of the tier a unit holds or aims at, a rate too uncertain to count,
/// a falling rate, and units that need a survey and have none. See the module's README.
public struct SatisfactionCheck: CheckModule {
    public init() {}

    enum Rules {
        static let belowThreshold = Rule(
            id: "satisfaction.below_threshold", title: LocalizedText(vi: "Tỷ lệ hài lòng dưới ngưỡng", en: "Satisfaction below threshold"),
            defaultSeverity: .critical, messageID: "e38a7976eb4a4db79f9a44f5e80d440c",
            template: LocalizedText(
                vi: "{subject}: tỷ lệ hài lòng ({survey_kind_name}) {rate} ({satisfied}/{respondents} người, khảo sát {surveyed_on}) dưới ngưỡng {threshold} ({tier_name}); {consequence}",
                en: "{subject}: satisfaction ({survey_kind_name}) {rate} ({satisfied} of {respondents}, surveyed {surveyed_on}) is below the threshold of {threshold} ({tier_name}); {consequence}"),
            source: RuleSource("002", "IV.10"))
        static let notConclusive = Rule(
            id: "satisfaction.not_conclusive", title: LocalizedText(vi: "Tỷ lệ hài lòng chưa đủ tin cậy", en: "Satisfaction not conclusive"),
            defaultSeverity: .warning, messageID: "b70c8cce75854d97b112709f29d48489",
            template: LocalizedText(
                vi: "{subject}: tỷ lệ hài lòng ({survey_kind_name}) {rate} đạt ngưỡng {threshold} nhưng chỉ với {respondents} người trả lời; khoảng tin cậy 95% là {wilson_lower} – {wilson_upper}; {advice}",
                en: "{subject}: satisfaction ({survey_kind_name}) {rate} meets the {threshold} threshold with only {respondents} respondents; the 95% interval is {wilson_lower} – {wilson_upper}; {advice}"),
            source: RuleSource("002", "IV.10"))
        static let declining = Rule(
            id: "satisfaction.declining", title: LocalizedText(vi: "Tỷ lệ hài lòng giảm", en: "Satisfaction declining"),
            defaultSeverity: .warning, messageID: "f3b812bb55ac462f80941c003a398d4c",
            template: LocalizedText(
                vi: "{subject}: tỷ lệ hài lòng ({survey_kind_name}) giảm {drop_points} điểm, từ {previous_rate} ({previous_surveyed_on}) xuống {rate} ({surveyed_on})",
                en: "{subject}: satisfaction ({survey_kind_name}) fell {drop_points} points, from {previous_rate} ({previous_surveyed_on}) to {rate} ({surveyed_on})"),
            source: RuleSource("000", "2"))
        static let surveyMissing = Rule(
            id: "satisfaction.survey_missing", title: LocalizedText(vi: "Chưa khảo sát sự hài lòng", en: "No recent satisfaction survey"),
            defaultSeverity: .warning, messageID: "d8fd7b5a75e94f228b27ee619c867593",
            template: LocalizedText(
                vi: "{subject}: {standing} nhưng không có khảo sát sự hài lòng ({survey_kind_name}) trong {max_age_months} tháng qua (lần gần nhất: {last_surveyed})",
                en: "{subject}: {standing} but has no satisfaction survey ({survey_kind_name}) in the last {max_age_months} months (latest: {last_surveyed})"),
            source: RuleSource("002", "IV.10"))
        static let badData = BadData(
            module: "satisfaction", messageID: "a604cddab282453580513f0f288266ee",
            title: LocalizedText(vi: "Dữ liệu khảo sát không dùng được", en: "Unusable survey data"),
            record: LocalizedText(vi: "Khảo sát {survey_id} của {subject}", en: "Survey {survey_id} of {subject}"),
            fix: LocalizedText(vi: "sửa dòng này trong kho dữ liệu", en: "fix this row in the store"))
        static let all = [belowThreshold, notConclusive, declining, surveyMissing, badData.rule]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "satisfaction", version: "2.0.0",
            summary: LocalizedText(vi: "Theo dõi tỷ lệ hài lòng của người dân, có tính đến cỡ mẫu",
                                   en: "Watches residents' satisfaction rates, taking the sample size into account"),
            settings: Parameters.declared,
            rules: Rules.all)
    }

    struct Parameters {
        static let thresholds = Setting<Thresholds>(
            "thresholds", .table, written: Thresholds.seedDefault,
            help: "Minimum rate in percent per survey kind and tier: {ntm_results: {ntm: 90, default: 90}}; `default` applies to a tier not listed and to units with no tier.")
        static let declinePoints = Setting<Double>(
            "decline_points", .number(0.1...100), default: 5,
            help: "A fall of this many percentage points since the previous survey of the same kind is declining.")
        static let maxAgeMonths = Setting<Int>(
            "max_age_months", .integer(1...120), default: 12,
            help: "A recognized unit, or one due for recognition this year, needs a survey newer than this.")
        static let requiredKinds = Setting<[String]>(
            "required_kinds", .list(of: .text(choices: [])), default: ["ntm_results"],
            help: "The survey kinds survey_missing asks for.")
        static let levels = Setting<[String]>(
            "levels", .list(of: .text(choices: [])), default: ["commune", "district"],
            help: "The unit levels survey_missing watches.")
        static let declared = [thresholds.spec, declinePoints.spec, maxAgeMonths.spec, requiredKinds.spec, levels.spec]

        let thresholds: Thresholds
        let declinePoints: Double
        let maxAgeMonths: Int
        let requiredKinds: [String]
        let levels: Set<String>

        init(_ settings: Settings) throws(SettingsError) {
            thresholds = try settings[Self.thresholds]
            declinePoints = try settings[Self.declinePoints]
            maxAgeMonths = try settings[Self.maxAgeMonths]
            requiredKinds = try settings[Self.requiredKinds]
            levels = Set(try settings[Self.levels])
        }
    }

    public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let parameters = try Parameters(context.settings)
        let store = context.store
        let map = try await store.unitMap()
        let units = map.units
        // A merged unit's roadmap binds its heir, which needs surveys of its own residents.
        let standing = Standing(recognitions: try await store.recognitions(),
                                roadmap: map.roadmap(try await store.roadmap(), on: context.today))
        // `surveys()` cannot return a row whose date is not a date; find those here so they are
        // reported rather than silently missing from the rates.
        let unreadable = try await store.query("SELECT id, unit_id, surveyed_on FROM surveys ORDER BY id", parameters: [])
            .filter { row in
                guard case .text(let text)? = row["surveyed_on"] else { return true }
                return CivilDate(text) == nil
            }
        var findings = Self.findings(today: context.today, parameters: parameters, units: units,
                                     standing: standing, surveys: try await store.surveys())
        for row in unreadable {
            let unitID = row["unit_id"]?.plain ?? "?"
            findings.append(Self.badData(surveyID: row["id"]?.plain ?? "?", unit: units[unitID], unitID: unitID,
                                         vi: "ngày khảo sát '\(row["surveyed_on"]?.plain ?? "")' không phải ngày có thật",
                                         en: "the survey date '\(row["surveyed_on"]?.plain ?? "")' is not a real date"))
        }
        return findings
    }

    /// The rules over plain values, so tests need no store.
    static func findings(today: CivilDate, parameters: Parameters, units: [String: AdministrativeUnit],
                         standing: Standing, surveys: [SatisfactionSurvey]) -> [Finding] {
        var findings: [Finding] = []
        var usable: [SatisfactionSurvey] = []
        for survey in surveys {
            if let problem = problem(with: survey, units: units, thresholds: parameters.thresholds) {
                findings.append(badData(surveyID: survey.id, unit: units[survey.unitID], unitID: survey.unitID,
                                        vi: problem.vi, en: problem.en))
            } else {
                usable.append(survey)
            }
        }

        let series = Dictionary(grouping: usable) { UnitKind(unitID: $0.unitID, kind: $0.kind) }
        for (key, surveys) in series.sorted(by: { ($0.key.unitID, $0.key.kind) < ($1.key.unitID, $1.key.kind) }) {
            // A unit that no longer exists is judged no more: its surveys measured residents of a
            // territory that is now part of another unit, which must survey them again.
            guard let unit = units[key.unitID], unit.isValid(on: today) else { continue }
            let ordered = surveys.sorted { ($0.surveyedOn, $0.id) < ($1.surveyedOn, $1.id) }
            findings += judge(latest: ordered[ordered.count - 1], previous: ordered.dropLast().last, unit: unit,
                              today: today, parameters: parameters, standing: standing)
        }

        findings += missingSurveys(today: today, parameters: parameters, units: units, standing: standing, series: series)
        return findings
    }

    struct UnitKind: Hashable {
        let unitID: String
        let kind: String
    }

    static func judge(latest: SatisfactionSurvey, previous: SatisfactionSurvey?, unit: AdministrativeUnit,
                      today: CivilDate, parameters: Parameters, standing: Standing) -> [Finding] {
        let subject = Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id)
        let labels = ["survey_kind": latest.kind]
        let tiers = standing.heldTiers(of: unit.id).union(standing.openTargets(of: unit.id).map(\.tier))
        guard let threshold = parameters.thresholds.threshold(kind: latest.kind, tiers: tiers) else { return [] }
        let rate = latest.ratePercent
        var values = kindValues(latest.kind)
        values["rate"] = .percent(rate)
        values["satisfied"] = .integer(Int64(latest.satisfied))
        values["respondents"] = .integer(Int64(latest.respondents))
        values["surveyed_on"] = .date(latest.surveyedOn)
        values["threshold"] = .percent(threshold.percent)
        values["tier"] = .text(threshold.tier)
        values["tier_name"] = .localized(tierName(threshold.tier))
        values["survey_id"] = .text(latest.id)

        var findings: [Finding] = []
        if rate < threshold.percent {
            let decisive = standing.isRecognized(unit.id) || standing.isDue(unit.id, in: today.year)
            // "Không công nhận đạt chuẩn NTM nếu tỷ lệ hài lòng thấp" (002 §IV.10) speaks of units not
            // yet recognized at the tier; a unit that holds it, and a survey of administrative
            // procedures (002 §IV.5), call for something else.
            let consequence: LocalizedText
            if latest.kind == "admin_procedures" {
                consequence = LocalizedText(vi: "cần cải thiện việc giải quyết thủ tục hành chính để người dân hài lòng",
                                            en: "the handling of administrative procedures must improve")
            } else if standing.heldTiers(of: unit.id).contains(threshold.tier) {
                consequence = LocalizedText(vi: "đơn vị đã đạt chuẩn nhưng người dân chưa hài lòng: cần rà soát, khắc phục để duy trì chuẩn",
                                            en: "the unit is recognized but residents are not satisfied: review and remedy to keep the standard")
            } else {
                consequence = LocalizedText(vi: "không đủ điều kiện công nhận", en: "it cannot be recognized")
            }
            values["consequence"] = .localized(consequence)
            findings.append(Finding(rule: Rules.belowThreshold, subject: subject, severity: decisive ? .critical : .warning,
                                    labels: labels, values: values))
        } else {
            let interval = WilsonInterval(successes: latest.satisfied, trials: latest.respondents)
            if interval.lower * 100 < threshold.percent {
                var uncertain = values
                uncertain["wilson_lower"] = .percent(interval.lower * 100)
                uncertain["wilson_upper"] = .percent(interval.upper * 100)
                if let needed = WilsonInterval.respondentsNeeded(rate: rate / 100, threshold: threshold.percent / 100) {
                    uncertain["respondents_needed"] = .integer(Int64(needed))
                    uncertain["advice"] = .localized(LocalizedText(
                        vi: "ở tỷ lệ này cần ít nhất \(Value.integer(Int64(needed)).formatted(in: .vi)) người trả lời để kết luận",
                        en: "at this rate at least \(Value.integer(Int64(needed)).formatted(in: .en)) respondents are needed to conclude"))
                } else {
                    uncertain["advice"] = .localized(LocalizedText(
                        vi: "tỷ lệ đúng bằng ngưỡng: không cỡ mẫu nào đủ để kết luận, cần nâng sự hài lòng",
                        en: "the rate is exactly the threshold: no sample size can settle it, satisfaction itself must rise"))
                }
                findings.append(Finding(rule: Rules.notConclusive, subject: subject, labels: labels, values: uncertain))
            }
        }

        if let previous {
            let drop = previous.ratePercent - rate
            if drop >= parameters.declinePoints {
                var falling = values
                falling["drop_points"] = .number(drop)
                falling["previous_rate"] = .percent(previous.ratePercent)
                falling["previous_surveyed_on"] = .date(previous.surveyedOn)
                findings.append(Finding(rule: Rules.declining, subject: subject, labels: labels, values: falling))
            }
        }
        return findings
    }

    static func missingSurveys(today: CivilDate, parameters: Parameters, units: [String: AdministrativeUnit],
                               standing: Standing, series: [UnitKind: [SatisfactionSurvey]]) -> [Finding] {
        let oldestAccepted = today.adding(months: -parameters.maxAgeMonths)
        var findings: [Finding] = []
        for unitID in standing.unitIDs.sorted() {
            guard let unit = units[unitID], parameters.levels.contains(unit.level), unit.isValid(on: today) else { continue }
            let recognized = standing.isRecognized(unitID)
            guard recognized || standing.isDue(unitID, in: today.year) else { continue }
            for kind in parameters.requiredKinds {
                let latest = series[UnitKind(unitID: unitID, kind: kind)]?.map(\.surveyedOn).max()
                if let latest, latest > oldestAccepted { continue }
                var values = kindValues(kind)
                values["max_age_months"] = .integer(Int64(parameters.maxAgeMonths))
                values["standing"] = .localized(LocalizedText(
                    vi: recognized ? "đã được công nhận" : "dự kiến được công nhận trong năm \(today.year)",
                    en: recognized ? "is recognized" : "is due for recognition in \(today.year)"))
                if let latest {
                    values["last_surveyed_on"] = .date(latest)
                    values["last_surveyed"] = .localized(LocalizedText(vi: latest.vietnamese, en: latest.description))
                } else {
                    values["last_surveyed"] = .localized(LocalizedText(vi: "chưa có", en: "none"))
                }
                findings.append(Finding(rule: Rules.surveyMissing, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id),
                                        labels: ["survey_kind": kind], values: values))
            }
        }
        return findings
    }

    static func problem(with survey: SatisfactionSurvey, units: [String: AdministrativeUnit],
                        thresholds: Thresholds) -> LocalizedText? {
        if units[survey.unitID] == nil {
            return LocalizedText(vi: "đơn vị '\(survey.unitID)' không có trong danh mục", en: "the unit '\(survey.unitID)' is not a known unit")
        }
        if survey.respondents <= 0 {
            return LocalizedText(vi: "số người được hỏi là \(survey.respondents)", en: "\(survey.respondents) respondents")
        }
        if survey.satisfied < 0 || survey.satisfied > survey.respondents {
            return LocalizedText(vi: "số người hài lòng (\(survey.satisfied)) không nằm trong 0…\(survey.respondents) người được hỏi",
                                 en: "\(survey.satisfied) satisfied is outside 0…\(survey.respondents) respondents")
        }
        if !thresholds.knows(kind: survey.kind) {
            return LocalizedText(vi: "loại khảo sát '\(survey.kind)' không có ngưỡng trong cấu hình",
                                 en: "the survey kind '\(survey.kind)' has no threshold in the configuration")
        }
        return nil
    }

    static func badData(surveyID: String, unit: AdministrativeUnit?, unitID: String, vi: String, en: String) -> Finding {
        Rules.badData.finding(Subject(kind: "survey", id: surveyID, name: unit?.name ?? unitID, unitID: unit?.id),
                              vi: vi, en: en, values: ["survey_id": .text(surveyID)])
    }

    static func tierName(_ tier: String) -> LocalizedText {
        tier == "default" ? LocalizedText(vi: "ngưỡng chung", en: "general threshold") : Standing.tierName(tier)
    }

    static func kindValues(_ kind: String) -> [String: Value] {
        let names: LocalizedText = switch kind {
        case "ntm_results": LocalizedText(vi: "kết quả xây dựng NTM", en: "NTM results")
        case "admin_procedures": LocalizedText(vi: "giải quyết thủ tục hành chính", en: "administrative procedures")
        default: LocalizedText(vi: kind, en: kind)
        }
        return ["survey_kind": .text(kind), "survey_kind_name": .localized(names)]
    }
}

extension SatisfactionSurvey {
    var ratePercent: Double { Double(satisfied) * 100 / Double(respondents) }
}
