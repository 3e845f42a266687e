import CheckKit

/// A day of the year written `MM-DD` in the settings ("06-30"): a milestone that recurs yearly.
struct MonthDay: Hashable, Comparable, CustomStringConvertible, SettingWritable {
    let month: Int
    let day: Int

    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let month = Int(parts[0]), let day = Int(parts[1]), (1...12).contains(month),
              (1...CivilDate.daysInMonth(year: 2024, month: month)).contains(day) else { return nil }
        self.month = month
        self.day = day
    }

    /// This day in `year`; 29 February is 28 February in a common year.
    func `in`(_ year: Int) -> CivilDate {
        CivilDate(year: year, month: month, day: min(day, CivilDate.daysInMonth(year: year, month: month)))!
    }

    var description: String { String(format: "%02d-%02d", month, day) }

    static func < (lhs: MonthDay, rhs: MonthDay) -> Bool { (lhs.month, lhs.day) < (rhs.month, rhs.day) }

    init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .text(let text) = value, let day = MonthDay(text) else {
            throw SettingsError(key: key, message: "expected a day of the year as MM-DD, found \(value)")
        }
        self = day
    }

    var settingValue: SettingValue { .text(description) }
}
