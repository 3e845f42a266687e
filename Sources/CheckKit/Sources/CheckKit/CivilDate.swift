import Foundation

/// A calendar date with no time of day, as the programme's documents write them
/// ("trước ngày 30/10/2024"). Civil dates are read in ``CivilDate/programmeTimeZone``.
///
/// Arithmetic is done on day numbers (proleptic Gregorian), so it is exact and needs no Calendar.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Asia/Ho_Chi_Minh: every date in the programme is a Vietnamese civil date.
    public static let programmeTimeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!

    /// Returns nil for a date that does not exist (31 April, 29 February 2023, month 13).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` (ISO 8601) or `DD/MM/YYYY` (as Vietnamese offices write it).
    public init?(_ text: String) {
        let blank = { (c: Character?) in c.map { $0 == " " || $0 == "\t" || $0.unicodeScalars.first!.properties.generalCategory == .spaceSeparator } ?? false }
        // Trimming through Foundation cost more than the parse; most dates have nothing to trim.
        let trimmed = blank(text.first) || blank(text.last) ? text.trimmingCharacters(in: .whitespaces) : text
        let iso = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        let vn = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let parts: (Substring, Substring, Substring)
        if iso.count == 3, iso[0].count == 4 {
            parts = (iso[0], iso[1], iso[2])
        } else if vn.count == 3, vn[2].count == 4 {
            parts = (vn[2], vn[1], vn[0])
        } else {
            return nil
        }
        guard parts.1.count <= 2, parts.2.count <= 2,
              let y = Int(parts.0), let m = Int(parts.1), let d = Int(parts.2) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The civil date of an instant in `timeZone`.
    public init(_ instant: Date, in timeZone: TimeZone = CivilDate.programmeTimeZone) {
        let seconds = Int(floor(instant.timeIntervalSince1970)) + timeZone.secondsFromGMT(for: instant)
        self.init(dayNumber: Int(floor(Double(seconds) / 86_400)))
    }

    /// Days since 1970-01-01.
    public var dayNumber: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    /// Adds calendar months, clamping the day to the end of the target month
    /// (31 January + 1 month = 28 or 29 February).
    public func adding(months: Int) -> CivilDate {
        let index = year * 12 + (month - 1) + months
        let y = Int(floor(Double(index) / 12))
        let m = index - y * 12 + 1
        return CivilDate(year: y, month: m, day: min(day, CivilDate.daysInMonth(year: y, month: m)))!
    }

    /// Adds calendar years; 29 February becomes 28 February in a common year.
    public func adding(years: Int) -> CivilDate { adding(months: years * 12) }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(until other: CivilDate) -> Int { other.dayNumber - dayNumber }

    /// The first instant of this date in `timeZone` (midnight, Vietnam time by default).
    public func startInstant(in timeZone: TimeZone = CivilDate.programmeTimeZone) -> Date {
        let utcMidnight = Date(timeIntervalSince1970: TimeInterval(dayNumber) * 86_400)
        return utcMidnight.addingTimeInterval(-TimeInterval(timeZone.secondsFromGMT(for: utcMidnight)))
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        // By hand: String(format:) was a twentieth of an import (every date is written back).
        "\(Self.digits(year, 4))-\(Self.digits(month, 2))-\(Self.digits(day, 2))"
    }

    /// `DD/MM/YYYY`, as Vietnamese documents write dates.
    public var vietnamese: String {
        // By hand as well: every date of every Vietnamese message goes through here.
        "\(Self.digits(day, 2))/\(Self.digits(month, 2))/\(Self.digits(year, 4))"
    }

    /// `value` as `String(format: "%0<width>d")` writes it.
    static func digits(_ value: Int, _ width: Int) -> String {
        guard value >= 0 else { return String(format: "%0\(width)d", value) }
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.dayNumber < rhs.dayNumber }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not a date (YYYY-MM-DD)"))
        }
        self = date
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
