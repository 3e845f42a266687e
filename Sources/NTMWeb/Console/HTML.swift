import CheckKit
import Foundation

/// The console's one escaping helper. Every string that reaches a page goes through it, in text
/// and in double-quoted attributes alike, so a unit's name or an alert's message cannot open a tag.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An id as one path segment of a console link.
    static func segment(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }
}

/// Markup built by interpolation: interpolated `String`s are escaped, `HTMLText` is inserted as
/// it is. So the only way to put raw markup on a page is to have built it as `HTMLText`.
public struct HTMLText: Sendable, ExpressibleByStringInterpolation {
    public private(set) var html: String

    public init(stringLiteral value: String) { html = value }
    public init(stringInterpolation: StringInterpolation) { html = stringInterpolation.html }
    init(trusted html: String) { self.html = html }

    public struct StringInterpolation: StringInterpolationProtocol {
        var html = ""
        public init(literalCapacity: Int, interpolationCount: Int) { html.reserveCapacity(literalCapacity * 2) }
        public mutating func appendLiteral(_ literal: String) { html += literal }
        public mutating func appendInterpolation(_ text: String) { html += HTML.escape(text) }
        public mutating func appendInterpolation(_ number: Int) { html += String(number) }
        public mutating func appendInterpolation(_ markup: HTMLText) { html += markup.html }
        public mutating func appendInterpolation(_ markup: [HTMLText]) { for item in markup { html += item.html } }
    }

    static func + (lhs: HTMLText, rhs: HTMLText) -> HTMLText { HTMLText(trusted: lhs.html + rhs.html) }
    static func += (lhs: inout HTMLText, rhs: HTMLText) { lhs.html += rhs.html }
}

extension Array where Element == HTMLText {
    func joined() -> HTMLText { HTMLText(trusted: map(\.html).joined()) }
}

/// Words in the page's language: `t("Cảnh báo", "Alerts")`.
struct Words: Sendable {
    let language: Language
    func callAsFunction(_ vi: String, _ en: String) -> String { language == .vi ? vi : en }

    func severity(_ severity: Severity) -> String {
        switch severity {
        case .critical: self("Nghiêm trọng", "Critical")
        case .error: self("Lỗi", "Error")
        case .warning: self("Cảnh báo", "Warning")
        case .notice: self("Lưu ý", "Notice")
        case .info: self("Thông tin", "Info")
        }
    }

    /// Civil time in Vietnam, as offices write it.
    func instant(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + 7 * 3600
        let day = CivilDate(date)
        let minutes = ((seconds % 86_400) + 86_400) % 86_400 / 60
        let time = String(format: "%02d:%02d", minutes / 60, minutes % 60)
        return language == .vi ? "\(time) \(day.vietnamese)" : "\(day) \(time)"
    }

    func day(_ day: CivilDate) -> String { language == .vi ? day.vietnamese : day.description }

    func number(_ value: Double, digits: Int = 1) -> String {
        let text = String(format: "%.\(digits)f", value)
        return language == .vi ? text.replacingOccurrences(of: ".", with: ",") : text
    }
}
