import CheckKit
import Foundation

/// When a duty is due, in the deadline columns every consumer reads alike.
public struct Deadline: Hashable, Sendable {
    public enum Semantics: String, Sendable { case before, by, withinMonth = "within_month", withinQuarter = "within_quarter",
                                                  withinHalf = "within_half", withinYear = "within_year" }
    public var due: CivilDate
    public var semantics: Semantics
    /// `once`, `monthly:DD`, `quarterly:MM-DD|...`, `yearly:MM-DD`.
    public var recurrence: String

    public init(due: CivilDate, semantics: Semantics, recurrence: String) {
        self.due = due; self.semantics = semantics; self.recurrence = recurrence
    }

    /// The last civil day on which the duty is still on time.
    public var lastDay: CivilDate { semantics == .before ? due.adding(days: -1) : due }
}

/// One time expression found in a sentence: its place (character offsets), the words, and what it
/// means; `yearOnly` marks the coarse forms ("trong năm 2025") that targets use too.
public struct TimeExpression: Sendable {
    public let range: Range<Int>
    public let words: String
    public let deadline: Deadline
    public let yearOnly: Bool
    /// "đến năm 2030": a target's horizon, never a duty's deadline.
    public let targetHorizon: Bool
}

/// The grammar of Vietnamese time limits, one rule per form. `reference` is the document's date:
/// "N ngày kể từ ngày ban hành" counts from it, and a recurring duty's `due` is its first occurrence
/// after it.
public enum TimeGrammar {
    static let date = #"(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})"#
    static let monthYear = #"(\d{1,2})\s*[/\-]\s*(\d{4})"#
    static let quarter = #"quý\s+(IV|III|II|I|[1-4])\s*[/\-]\s*(?:năm\s+)?(\d{4})"#
    static let wordsDate = #"ngày\s+([\p{L}\d ]+?)\s+tháng\s+([\p{L}\d]+(?:\s+hai)?)\s+năm\s+(\d{4})"#
    static let yearAlone = #"(\d{4})(?!\s*[\-–]\s*\d{4})(?![/\d])"#

    struct Rule {
        let pattern: Regex<AnyRegexOutput>
        let build: (AnyRegexOutput, CivilDate?) -> (Deadline, yearOnly: Bool, horizon: Bool)?
    }

    nonisolated(unsafe) static let rules: [Rule] = {
        func r(_ p: String) -> Regex<AnyRegexOutput> { try! Regex(p).ignoresCase() }
        func s(_ o: AnyRegexOutput, _ i: Int) -> String { o[i].substring.map(String.init) ?? "" }
        func n(_ o: AnyRegexOutput, _ i: Int) -> Int? { Int(s(o, i)) }
        func day(_ o: AnyRegexOutput, _ d: Int, _ m: Int, _ y: Int) -> CivilDate? {
            guard let dd = n(o, d), let mm = n(o, m), let yy = n(o, y) else { return nil }
            return CivilDate(year: yy, month: mm, day: dd)
        }
        func once(_ d: CivilDate?, _ sem: Deadline.Semantics) -> (Deadline, yearOnly: Bool, horizon: Bool)? {
            d.map { (Deadline(due: $0, semantics: sem, recurrence: "once"), false, false) }
        }
        func firstAfter(_ ref: CivilDate?, _ candidates: (Int) -> [CivilDate]) -> CivilDate? {
            let from = ref ?? CivilDate(year: 2000, month: 1, day: 1)!
            for year in from.year...(from.year + 1) {
                if let hit = candidates(year).sorted().first(where: { $0 > from }) { return hit }
            }
            return nil
        }
        return [
            // định kỳ hằng quý, trước ngày 15 của tháng cuối quý
            Rule(pattern: r(#"(?:định kỳ\s+)?(?:hằng|hàng)\s+quý,?\s+trước\s+ngày\s+(\d{1,2})\s+(?:của\s+)?tháng\s+(cuối|đầu)\s+quý"#)) { o, ref in
                guard let dd = n(o, 1) else { return nil }
                let months = s(o, 2).lowercased() == "cuối" ? [3, 6, 9, 12] : [1, 4, 7, 10]
                let rec = "quarterly:" + months.map { String(format: "%02d-%02d", $0, dd) }.joined(separator: "|")
                guard let due = firstAfter(ref, { y in months.compactMap { CivilDate(year: y, month: $0, day: dd) } }) else { return nil }
                return (Deadline(due: due, semantics: .before, recurrence: rec), false, false)
            },
            // định kỳ hằng tháng, trước ngày 05 / trước ngày 20 hàng tháng
            Rule(pattern: r(#"(?:(?:định kỳ\s+)?(?:hằng|hàng)\s+tháng,?\s+trước\s+ngày\s+(\d{1,2})(?!\s*[/\-]\d)(?!\s+tháng)|trước\s+ngày\s+(\d{1,2})\s+(?:hằng|hàng)\s+tháng)"#)) { o, ref in
                guard let dd = n(o, 1) ?? n(o, 2), (1...31).contains(dd) else { return nil }
                guard let due = firstAfter(ref, { y in (1...12).compactMap { CivilDate(year: y, month: $0, day: min(dd, CivilDate.daysInMonth(year: y, month: $0))) } }) else { return nil }
                return (Deadline(due: due, semantics: .before, recurrence: String(format: "monthly:%02d", dd)), false, false)
            },
            // trước ngày 10/10 hằng năm / định kỳ hằng năm, trước ngày 15 tháng 12
            Rule(pattern: r(#"(?:trước\s+ngày\s+(\d{1,2})\s*/\s*(\d{1,2})(?!\s*/\s*\d)\s+(?:hằng|hàng)\s+năm|(?:định kỳ\s+)?(?:hằng|hàng)\s+năm,?\s+trước\s+ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?!\s*/))"#)) { o, ref in
                guard let dd = n(o, 1) ?? n(o, 3), let mm = n(o, 2) ?? n(o, 4), CivilDate(year: 2024, month: mm, day: dd) != nil else { return nil }
                guard let due = firstAfter(ref, { y in [CivilDate(year: y, month: mm, day: dd)].compactMap { $0 } }) else { return nil }
                return (Deadline(due: due, semantics: .before, recurrence: String(format: "yearly:%02d-%02d", mm, dd)), false, false)
            },
            Rule(pattern: r(#"trước\s+ngày\s+"# + date)) { o, _ in once(day(o, 1, 2, 3), .before) },
            Rule(pattern: r(#"trước\s+"# + wordsDate)) { o, _ in once(wordsDay(s(o, 1), s(o, 2), s(o, 3)), .before) },
            Rule(pattern: r(#"(?:chậm\s+nhất|muộn\s+nhất)\s+(?:là\s+)?(?:vào\s+)?(?:ngày\s+)?"# + date)) { o, _ in once(day(o, 1, 2, 3), .by) },
            Rule(pattern: r(#"(?:đến|tới)\s+hết\s+ngày\s+"# + date)) { o, _ in once(day(o, 1, 2, 3), .by) },
            Rule(pattern: r(#"(?:chậm\s+nhất|muộn\s+nhất)\s+(?:là\s+)?"# + wordsDate)) { o, _ in once(wordsDay(s(o, 1), s(o, 2), s(o, 3)), .by) },
            // trong vòng 30 ngày kể từ ngày ban hành
            Rule(pattern: r(#"(?:trong\s+(?:vòng|thời hạn)\s+|chậm nhất\s+)?(\d{1,3})\s+ngày\s+(?:làm việc\s+)?kể\s+từ\s+ngày\s+(?:ban hành|ký)"#)) { o, ref in
                guard let count = n(o, 1), let ref else { return nil }
                return once(ref.adding(days: count), .by)
            },
            Rule(pattern: r(#"trước\s+tháng\s+"# + monthYear)) { o, _ in
                guard let mm = n(o, 1), let yy = n(o, 2) else { return nil }
                return once(CivilDate(year: yy, month: mm, day: 1), .before)
            },
            Rule(pattern: r(#"(?:chậm\s+nhất\s+)?(?:trong|vào)\s+tháng\s+"# + monthYear)) { o, _ in
                guard let mm = n(o, 1), let yy = n(o, 2), (1...12).contains(mm) else { return nil }
                return once(CivilDate.lastOf(month: mm, year: yy), .withinMonth)
            },
            Rule(pattern: r(#"trước\s+"# + quarter)) { o, _ in
                guard let q = quarterNumber(s(o, 1)), let yy = n(o, 2) else { return nil }
                return once(CivilDate(year: yy, month: 3 * (q - 1) + 1, day: 1), .before)
            },
            Rule(pattern: r(#"(?:trong|vào)\s+"# + quarter)) { o, _ in
                guard let q = quarterNumber(s(o, 1)), let yy = n(o, 2) else { return nil }
                return once(CivilDate.lastOf(month: 3 * q, year: yy), .withinQuarter)
            },
            Rule(pattern: r(#"trong\s+6\s+tháng\s+(đầu|cuối)\s+năm\s+(\d{4})"#)) { o, _ in
                guard let yy = n(o, 2) else { return nil }
                return once(CivilDate.lastOf(month: s(o, 1).lowercased() == "đầu" ? 6 : 12, year: yy), .withinHalf)
            },
            Rule(pattern: r(#"(?:đến|tới)\s+(?:hết\s+|cuối\s+)?năm\s+"# + yearAlone)) { o, _ in
                guard let yy = n(o, 1) else { return nil }
                return (Deadline(due: CivilDate.lastOf(month: 12, year: yy), semantics: .withinYear, recurrence: "once"), true, true)
            },
            Rule(pattern: r(#"(?:trong|vào\s+cuối)\s+năm\s+"# + yearAlone)) { o, _ in
                guard let yy = n(o, 1) else { return nil }
                return (Deadline(due: CivilDate.lastOf(month: 12, year: yy), semantics: .withinYear, recurrence: "once"), true, false)
            },
            // A whole-year duty written as its object: "giải ngân 100% vốn kế hoạch năm 2022".
            Rule(pattern: r(#"giải\s+ngân\s+100\s*%[^.;()]{0,60}?năm\s+"# + yearAlone)) { o, _ in
                guard let yy = n(o, 1) else { return nil }
                return (Deadline(due: CivilDate.lastOf(month: 12, year: yy), semantics: .withinYear, recurrence: "once"), true, false)
            },
        ]
    }()

    /// Every time expression in `text`, left to right; where two rules cover the same words the
    /// longer (the more specific) wins.
    public static func expressions(in text: String, reference: CivilDate?) -> [TimeExpression] {
        var found: [TimeExpression] = []
        let offsets = characterOffsets(text)
        for (index, rule) in rules.enumerated() {
            for match in text.matches(of: rule.pattern) {
                guard let built = rule.build(match.output, reference) else { continue }
                let range = offsets[match.range.lowerBound]!..<offsets[match.range.upperBound]!
                if index == rules.count - 1, !found.isEmpty { continue }   // a whole-year object only when nothing else dates the clause
                found.append(TimeExpression(range: range, words: String(text[match.range]), deadline: built.0,
                                            yearOnly: built.yearOnly, targetHorizon: built.horizon))
            }
        }
        found.sort { $0.range.lowerBound < $1.range.lowerBound || ($0.range.lowerBound == $1.range.lowerBound && $0.range.count > $1.range.count) }
        var kept: [TimeExpression] = []
        for e in found where !kept.contains(where: { $0.range.overlaps(e.range) }) { kept.append(e) }
        return kept
    }

    static func characterOffsets(_ text: String) -> [String.Index: Int] {
        var map: [String.Index: Int] = [:]
        var i = 0
        var index = text.startIndex
        while index < text.endIndex { map[index] = i; i += 1; index = text.index(after: index) }
        map[text.endIndex] = i
        return map
    }

    static func quarterNumber(_ s: String) -> Int? {
        ["I": 1, "II": 2, "III": 3, "IV": 4, "1": 1, "2": 2, "3": 3, "4": 4][s.uppercased()]
    }

    static let numberWords: [String: Int] = [
        "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7, "tám": 8,
        "chín": 9, "mười": 10, "mươi": 10, "giêng": 1, "chạp": 12,
    ]

    /// "mười lăm" → 15, "hai mươi tám" → 28, "ba mươi mốt" → 31; digits pass through.
    static func wordsNumber(_ text: String) -> Int? {
        if let n = Int(text.trimmingCharacters(in: .whitespaces)) { return n }
        var total = 0, current = 0
        for word in text.lowercased().split(separator: " ") {
            guard let v = numberWords[String(word)] else { return nil }
            if word == "mười" { current = 10 } else if word == "mươi" { current = max(current, 1) * 10 }
            else { current += v }
            total = current
        }
        return total == 0 ? nil : total
    }

    static func wordsDay(_ d: String, _ m: String, _ y: String) -> CivilDate? {
        guard let dd = wordsNumber(d), let mm = wordsNumber(m), let yy = Int(y) else { return nil }
        return CivilDate(year: yy, month: mm, day: dd)
    }
}
