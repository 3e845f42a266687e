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

    // The two formatters below run for every number of every message (two languages, 70,000
    // findings in a national cycle): written on bytes, they were a sixth of a national cycle as
    // `String(format:)` and `Substring` groups (issue 21).

    static func grouped(_ value: Int64, separator: String) -> String {
        var digits = String(value.magnitude).utf8.map { $0 }
        guard digits.count > 3 else { return value < 0 ? "-" + String(decoding: digits, as: UTF8.self) : String(decoding: digits, as: UTF8.self) }
        let separatorBytes = Array(separator.utf8)
        var text: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
        text.reserveCapacity(digits.count + digits.count / 3 * separatorBytes.count + 1)
        let head = digits.count % 3 == 0 ? 3 : digits.count % 3
        text.append(contentsOf: digits[0..<head])
        var index = head
        while index < digits.count {
            text.append(contentsOf: separatorBytes)
            text.append(contentsOf: digits[index..<index + 3])
            index += 3
        }
        digits = text
        return String(decoding: digits, as: UTF8.self)
    }

    /// `value` rounded to `decimals` places as `printf("%.Nf")` rounds it (C's own `vsnprintf`,
    /// in the C locale the daemon runs in), without trailing zeros, with `separator` for the point.
    static func trimmed(_ value: Double, decimals: Int, separator: String) -> String {
        var buffer = [CChar](repeating: 0, count: 352)     // %.4f of the largest double fits
        let length = withVaList([value]) { arguments in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%.\(decimals)f", arguments) }
        }
        guard value.isFinite, length > 0, Int(length) < buffer.count else { return String(format: "%.\(decimals)f", value) }
        var bytes = buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }
        // The point is whatever stands between the digits (it may be several bytes): a module
        // that set LC_NUMERIC to a locale writing "92,5" must not change everyone's messages.
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        if let point = bytes.firstIndex(where: { !isDigit($0) && $0 != UInt8(ascii: "-") }) {
            let fraction = bytes[point...].firstIndex(where: isDigit) ?? bytes.endIndex
            while bytes.count > fraction, bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
            if bytes.count == fraction {
                bytes.removeSubrange(point...)
            } else {
                bytes.replaceSubrange(point..<fraction, with: separator.utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
