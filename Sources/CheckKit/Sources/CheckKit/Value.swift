import Foundation

/// A typed value carried by a finding (a due date, an amount, a rate) or by a store row.
///
/// People see it formatted for their language (``formatted(in:)``); journald and webhook receivers
/// get a plain machine form (``plain``): integers without grouping, ISO dates.
public enum Value: Sendable, Hashable, Codable {
    case text(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case date(CivilDate)
    case instant(Date)
    /// Money, in whole Vietnamese đồng. Never floating point.
    case amountVND(Int64)
    /// A rate in percent (92.5 means 92.5%).
    case percent(Double)
    case list([String])
    /// Text in both languages (a problem, a consequence, a status): the renderer picks the
    /// reader's language, so a module passes one value instead of a `_vi`/`_en` pair.
    case localized(LocalizedText)

    /// The machine form: journald fields, webhook labels and annotations, JSON output. A localized
    /// text is the Vietnamese, the programme's language; ``plain(in:)`` picks another.
    public var plain: String { plain(in: .vi) }

    /// The machine form, with a localized text in `language`: a receiver configured for English
    /// reads English in the same fields.
    public func plain(in language: Language) -> String {
        switch self {
        case .localized(let text): text.text(in: language)
        case .text(let s): s
        case .integer(let i), .amountVND(let i): String(i)
        case .number(let d), .percent(let d): Value.trimmed(d, decimals: 4, separator: ".")
        case .bool(let b): b ? "true" : "false"
        case .date(let d): d.description
        case .instant(let t): Value.iso8601(t)
        case .list(let items): items.joined(separator: ",")
        }
    }

    /// The form a person reads, in their language.
    public func formatted(in language: Language) -> String {
        let decimalSeparator = language == .vi ? "," : "."
        switch self {
        case .amountVND(let amount):
            let grouped = Value.grouped(amount, separator: language == .vi ? "." : ",")
            return language == .vi ? "\(grouped) đ" : "VND \(grouped)"
        case .integer(let i):
            return Value.grouped(i, separator: language == .vi ? "." : ",")
        case .number(let d):
            return Value.trimmed(d, decimals: 2, separator: decimalSeparator)
        case .percent(let p):
            return Value.trimmed(p, decimals: 1, separator: decimalSeparator) + "%"
        case .date(let d):
            return language == .vi ? d.vietnamese : d.description
        case .instant(let t):
            let date = CivilDate(t)
            let seconds = Int(t.timeIntervalSince(date.startInstant()))
            let clock = String(format: "%02d:%02d", seconds / 3600, (seconds % 3600) / 60)
            return language == .vi ? "\(clock) \(date.vietnamese)" : "\(date.description) \(clock)"
        case .bool(let b):
            return language == .vi ? (b ? "có" : "không") : (b ? "yes" : "no")
        case .text(let text):
            return text
        case .list(let items):
            return items.joined(separator: ", ")
        case .localized(let text):
            return text.text(in: language)
        }
    }

    static func grouped(_ value: Int64, separator: String) -> String {
        let digits = String(value.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: separator)
    }

    static func trimmed(_ value: Double, decimals: Int, separator: String) -> String {
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text.replacingOccurrences(of: ".", with: separator)
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
