import CheckKit
import Foundation

/// When a receiver's digest is due, in civil time in Asia/Ho_Chi_Minh: `daily 07:30` or
/// `weekly mon 07:30`. Each due instant closes a period that began at the one before it.
public struct DigestSchedule: Sendable, Hashable, CustomStringConvertible {
    /// 1 = Monday … 7 = Sunday; nil for daily.
    public let weekday: Int?
    public let minuteOfDay: Int

    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    public init?(_ text: String) {
        let words = text.lowercased().split(separator: " ").map(String.init)
        let time: String
        switch (words.first ?? "", words.count) {
        case ("daily", 2): weekday = nil; time = words[1]
        case ("weekly", 3):
            guard let index = Self.weekdays.firstIndex(of: words[1]) else { return nil }
            weekday = index + 1; time = words[2]
        default: return nil
        }
        let parts = time.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else { return nil }
        minuteOfDay = parts[0] * 60 + parts[1]
    }

    public var description: String {
        let time = String(format: "%02d:%02d", minuteOfDay / 60, minuteOfDay % 60)
        return weekday.map { "weekly \(Self.weekdays[$0 - 1]) \(time)" } ?? "daily \(time)"
    }

    /// The last due instant at or before `instant`.
    public func due(atOrBefore instant: Date) -> Date {
        var day = CivilDate(instant)
        while true {
            let due = day.startInstant().addingTimeInterval(TimeInterval(minuteOfDay * 60))
            if due <= instant, weekday.map({ $0 == day.isoWeekday }) ?? true { return due }
            day = day.adding(days: -1)
        }
    }

    /// The due instant before `due`: where its period begins.
    public func previous(_ due: Date) -> Date { self.due(atOrBefore: due.addingTimeInterval(-1)) }
}

extension CivilDate {
    /// 1 = Monday … 7 = Sunday.
    var isoWeekday: Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = CivilDate.programmeTimeZone
        let weekday = calendar.component(.weekday, from: startInstant())  // 1 = Sunday
        return (weekday + 5) % 7 + 1
    }
}
