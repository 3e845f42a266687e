import CheckKit

/// One occurrence of an obligation: the one-off itself, or one month's, quarter's or year's instance of a
/// recurring one. Each is tracked and completed on its own, keyed by its nominal date.
struct Occurrence: Sendable, Hashable {
    /// The date as the document writes it ("trước ngày 30/10/2024" → 2024-10-30).
    let nominal: CivilDate
    let semantics: Obligation.DueSemantics

    /// The last day on which acting is still on time: D-1 for "before D", D for "by D".
    var lastDay: CivilDate { semantics == .before ? nominal.adding(days: -1) : nominal }

    /// Whole days from `today` to the last day; 0 on the last day, negative once late.
    func daysLeft(on today: CivilDate) -> Int { today.days(until: lastDay) }

    /// Days late on `today`: 1 on the first day after the last day.
    func daysOverdue(on today: CivilDate) -> Int { -daysLeft(on: today) }

    /// Completed after its last day, in Vietnam civil time.
    func isLate(_ completion: Obligation.Completion) -> Bool { CivilDate(completion.completedAt) > lastDay }
}

enum OccurrenceCalendar {
    /// The occurrences of `schedule` whose nominal date lies in `window`, clipped to the
    /// obligation's own validity. A monthly day past the month's end falls on its last day
    /// ("day 31" is 30 April, 28 or 29 February).
    static func occurrences(of schedule: Obligation.Schedule, semantics: Obligation.DueSemantics,
                            startsOn: CivilDate?, endsOn: CivilDate?,
                            in window: ClosedRange<CivilDate>) -> [Occurrence] {
        let from = max(window.lowerBound, startsOn ?? window.lowerBound)
        let to = min(window.upperBound, endsOn ?? window.upperBound)
        guard from <= to else { return [] }
        var dates: [CivilDate] = []
        switch schedule {
        case .once(let due):
            // A one-off is never clipped by the window's start: an old open obligation stays overdue.
            if due <= to { dates = [due] }
        case .monthly(let day):
            var year = from.year, month = from.month
            while let first = CivilDate(year: year, month: month, day: 1), first <= to {
                let date = CivilDate(year: year, month: month, day: min(day, CivilDate.daysInMonth(year: year, month: month)))!
                if date >= from && date <= to { dates.append(date) }
                (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
            }
        case .quarterly(let days):
            for year in from.year...to.year {
                dates += days.map { $0.date(in: year) }.filter { $0 >= from && $0 <= to }
            }
        case .yearly(let month, let day):
            for year in from.year...to.year {
                let date = CivilDate(year: year, month: month, day: min(day, CivilDate.daysInMonth(year: year, month: month)))!
                if date >= from && date <= to { dates.append(date) }
            }
        }
        return dates.map { Occurrence(nominal: $0, semantics: semantics) }
    }
}
