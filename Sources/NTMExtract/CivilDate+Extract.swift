import CheckKit

extension CivilDate {
    /// The last day of a month: what "trong tháng 9/2022" leaves as the last day on time.
    static func lastOf(month: Int, year: Int) -> CivilDate {
        CivilDate(year: year, month: month, day: daysInMonth(year: year, month: month))!
    }
}
