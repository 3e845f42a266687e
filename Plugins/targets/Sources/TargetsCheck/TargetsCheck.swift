import CheckKit
import Foundation

/// The province's targets (share of communes recognized at each tier, model villages, communes
/// below 15 criteria, districts without an NTM commune, average criteria per commune), computed from
/// the store, projected to their dates and compared (001; 002 §II). See the module's README.
public struct TargetsCheck: CheckModule {
    public init() {}

    enum Rules {
        static let offTrack = Rule(
            id: "targets.off_track", title: LocalizedText(vi: "Chỉ tiêu có nguy cơ không đạt", en: "Target off track"),
            defaultSeverity: .warning, messageID: "86c976f2441e43fbb5aaaa196510e0c3",
            template: LocalizedText(
                vi: "{subject}: hiện {current_text}, mục tiêu {target_text} đến {by}; {gap_text}; {outlook}",
                en: "{subject}: now {current_text}, target {target_text} by {by}; {gap_text}; {outlook}"),
            source: RuleSource("002", "II"))
        static let met = Rule(
            id: "targets.met", title: LocalizedText(vi: "Đạt chỉ tiêu", en: "Target met"),
            defaultSeverity: .notice, messageID: "df89499008b64025a79bff643d83baa1",
            template: LocalizedText(
                vi: "{subject}: đã đạt chỉ tiêu ({current_text}, mục tiêu {target_text} đến {by})",
                en: "{subject}: target reached ({current_text}, target {target_text} by {by})"),
            source: RuleSource("002", "II"))
        static let badData = BadData(
            module: "targets", messageID: "f02807d21efe477eb951b2ae45395af5",
            title: LocalizedText(vi: "Chỉ tiêu không tính được", en: "Target cannot be computed"),
            record: LocalizedText(vi: "Chỉ tiêu {subject}", en: "Target {subject}"))
        static let all = [offTrack, met, badData.rule]
    }

    public var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "targets", version: "2.0.0",
            summary: LocalizedText(vi: "Theo dõi tiến độ các chỉ tiêu của tỉnh", en: "Watches the province's targets"),
            settings: Parameters.declared,
            rules: Rules.all)
    }

    struct Parameters {
        static let metNoticeDays = Setting<Int>(
            "met_notice_days", .integer(1...366), default: 30,
            help: "A target reached within this many days is announced once with targets.met.")
        static let trendDays = Setting<Int>(
            "trend_days", .integer(30...3660), default: 365,
            help: "Without a baseline date, the projection follows the trend over this many days.")
        static let minimumCriteria = Setting<Int>(
            "minimum_criteria", .integer(0...100), default: 15,
            help: "The criteria count below which a commune counts for communes_below_15.")
        static let declared = [metNoticeDays.spec, trendDays.spec, minimumCriteria.spec]

        let metNoticeDays: Int
        let trendDays: Int
        let minimumCriteria: Int

        init(_ settings: Settings) throws(SettingsError) {
            metNoticeDays = try settings[Self.metNoticeDays]
            trendDays = try settings[Self.trendDays]
            minimumCriteria = try settings[Self.minimumCriteria]
        }
    }

    public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        let store = context.store
        let parameters = try Parameters(context.settings)
        let indicators = Indicators(units: try await store.unitsByID(), sets: try await store.criteriaSets(),
                                    assessments: try await store.assessments(), recognitions: try await store.recognitions(),
                                    minimumCriteria: parameters.minimumCriteria)
        return Self.findings(today: context.today, parameters: parameters, indicators: indicators,
                             targets: try await store.provinceTargets())
    }

    /// The rules over plain values, so tests need no store.
    static func findings(today: CivilDate, parameters: Parameters, indicators: Indicators, targets: [ProvinceTarget]) -> [Finding] {
        var findings: [Finding] = []
        for target in targets {
            let subject = Subject(kind: "target", id: target.id, name: target.title.vi)
            guard let direction = Indicators.known[target.indicator] else {
                let known = Indicators.known.keys.sorted().joined(separator: ", ")
                findings.append(Rules.badData.finding(
                    subject, vi: "chỉ số '\(target.indicator)' không tính được; các chỉ số: \(known)",
                    en: "the indicator '\(target.indicator)' is not one this module computes: \(known)"))
                continue
            }
            // District-level targets stop with the districts instead of reading as met.
            if indicators.isObsolete(target.indicator, on: today, scope: target.unitID) { continue }
            guard let now = indicators.reading(target.indicator, on: today, scope: target.unitID) else {
                findings.append(Rules.badData.finding(
                    subject, vi: "kho dữ liệu chưa có đánh giá tiêu chí nào của xã để tính chỉ số '\(target.indicator)'",
                    en: "the store has no commune assessment to compute '\(target.indicator)' from"))
                continue
            }
            func isMet(_ reading: Indicators.Reading) -> Bool { Self.isMet(reading.value, reading.population, target, direction) }
            var values = describe(now, target: target, direction: direction)
            if isMet(now) {
                let before = indicators.reading(target.indicator, on: today.adding(days: -parameters.metNoticeDays), scope: target.unitID)
                if let before, !isMet(before) {
                    findings.append(Finding(rule: Rules.met, subject: subject, values: values))
                }
                continue
            }
            // A number of districts or communes is projected in whole units: "sẽ là 4 huyện", not 3,91.
            let projected = projection(target, now: now, indicators: indicators, today: today, parameters: parameters)
                .map { now.isCount ? $0.rounded() : $0 }
            let late = today > target.by
            if !late, let projected, Self.isMet(projected, now.population, target, direction) { continue }
            values["projected"] = projected.map { now.isCount ? .integer(Int64($0)) : .number($0) } ?? .text("—")
            if late {
                values["outlook"] = .localized(LocalizedText(vi: "đã quá thời hạn mà chưa đạt", en: "the date has passed unmet"))
            } else if let projected {
                let text: Value = now.isCount ? .integer(Int64(projected)) : .number(projected)
                var vi = text.formatted(in: .vi) + unitSuffix(target.unit), en = text.formatted(in: .en) + unitSuffix(target.unit)
                if now.isCount {
                    vi += " \(now.noun.vi)"; en += " \(now.noun.en)"
                } else if target.unit == "%", let population = now.population {
                    let count = Indicators.neededCount(percent: projected, of: population)
                    vi += " (\(count)/\(population) \(now.noun.vi))"; en += " (\(count) of \(population) \(now.noun.en))"
                }
                values["outlook"] = .localized(LocalizedText(
                    vi: "theo xu hướng hiện nay, đến \(target.by.vietnamese) sẽ là \(vi)",
                    en: "at the current trend it will be \(en) by \(target.by)"))
            } else {
                values["outlook"] = .localized(LocalizedText(
                    vi: "chưa đủ số liệu để dự báo, và hiện chưa đạt",
                    en: "not enough history to project, and not met now"))
            }
            findings.append(Finding(rule: Rules.offTrack, subject: subject, severity: late ? .critical : .warning, values: values))
        }
        return findings
    }

    /// A share target is met when the units counted reach the units it asks for (rounded as the
    /// seeds round: 154 of 193 meets "80%"); other targets compare the value.
    static func isMet(_ value: Double, _ population: Int?, _ target: ProvinceTarget, _ direction: Indicators.Direction) -> Bool {
        if target.unit == "%", let population, population > 0 {
            let count = Indicators.neededCount(percent: value, of: population)
            let needed = Indicators.neededCount(percent: target.target, of: population)
            return direction == .atLeast ? count >= needed : count <= needed
        }
        return direction == .atLeast ? value >= target.target - 1e-9 : value <= target.target + 1e-9
    }

    /// A straight line through the indicator at the start of the trend and now, carried to the
    /// target's date. The start is the target's baseline date, or `trend_days` ago; the store's own
    /// reading there is used, and the target's stated baseline only when the store has nothing
    /// then (a baseline from another count would bend the line).
    static func projection(_ target: ProvinceTarget, now: Indicators.Reading, indicators: Indicators, today: CivilDate,
                           parameters: Parameters) -> Double? {
        let start = target.baselineOn.flatMap { $0 < today ? $0 : nil } ?? today.adding(days: -parameters.trendDays)
        let then = indicators.reading(target.indicator, on: start, scope: target.unitID)
        let startValue: Double
        if let then, then.population != 0 {
            startValue = then.value
        } else if let baseline = target.baseline {
            startValue = baseline
        } else {
            return nil
        }
        let elapsed = Double(start.days(until: today)), ahead = Double(today.days(until: target.by))
        guard elapsed > 0 else { return nil }
        return now.value + (now.value - startValue) * ahead / elapsed
    }

    static func describe(_ reading: Indicators.Reading, target: ProvinceTarget, direction: Indicators.Direction) -> [String: Value] {
        var values: [String: Value] = [
            "current": .number(reading.value), "target": .number(target.target), "by": .date(target.by),
            "indicator": .text(target.indicator),
        ]
        if let source = target.source { values["source"] = .text(source) }
        let suffix = unitSuffix(target.unit)
        func number(_ x: Double, _ language: Language) -> String { Value.number(x).formatted(in: language) + suffix }
        var currentVI = number(reading.value, .vi), currentEN = number(reading.value, .en)
        var targetVI = number(target.target, .vi), targetEN = number(target.target, .en)
        if let count = reading.count {
            values["count"] = .integer(Int64(count))
        }
        if target.unit == "%", let count = reading.count, let population = reading.population {
            let needed = Indicators.neededCount(percent: target.target, of: population)
            values["population"] = .integer(Int64(population))
            values["target_count"] = .integer(Int64(needed))
            currentVI += " (\(count)/\(population) \(reading.noun.vi))"
            currentEN += " (\(count) of \(population) \(reading.noun.en))"
            targetVI += " (\(needed)/\(population) \(reading.noun.vi))"
            targetEN += " (\(needed) of \(population) \(reading.noun.en))"
            values["gap"] = .integer(Int64(max(0, needed - count)))
            values["gap_text"] = .localized(LocalizedText(
                vi: "còn thiếu \(max(0, needed - count)) \(reading.noun.vi)",
                en: "\(max(0, needed - count)) \(reading.noun.en) short"))
        } else if direction == .atMost {
            let excess = reading.value - target.target
            values["gap"] = .number(excess)
            values["gap_text"] = .localized(LocalizedText(
                vi: "còn \(Value.number(excess).formatted(in: .vi)) \(reading.noun.vi) phải giảm",
                en: "\(Value.number(excess).formatted(in: .en)) \(reading.noun.en) too many"))
        } else {
            let short = target.target - reading.value
            values["gap"] = .number(short)
            values["gap_text"] = .localized(LocalizedText(
                vi: "còn thiếu \(Value.number(short).formatted(in: .vi)) \(reading.noun.vi)",
                en: "\(Value.number(short).formatted(in: .en)) \(reading.noun.en) short"))
        }
        values["current_text"] = .localized(LocalizedText(vi: currentVI, en: currentEN))
        values["target_text"] = .localized(LocalizedText(vi: targetVI, en: targetEN))
        return values
    }

    static func unitSuffix(_ unit: String) -> String { unit == "%" ? "%" : "" }
}
