import CheckKit
import Testing
@testable import DeadlineCheck

func day(_ text: String) -> CivilDate { CivilDate(text)! }

@Suite struct OccurrenceTests {
    @Test func beforeMeansTheDayBeforeAndByMeansTheDayItself() {
        let before = Occurrence(nominal: day("2024-10-30"), semantics: .before)
        let by = Occurrence(nominal: day("2024-10-30"), semantics: .by)
        #expect(before.lastDay == day("2024-10-29"))
        #expect(by.lastDay == day("2024-10-30"))
        #expect(before.daysLeft(on: day("2024-10-29")) == 0)
        #expect(before.daysOverdue(on: day("2024-10-30")) == 1)
        #expect(by.daysLeft(on: day("2024-10-30")) == 0)
        // "Before 1 March" in a leap year ends on 29 February.
        #expect(Occurrence(nominal: day("2024-03-01"), semantics: .before).lastDay == day("2024-02-29"))
        #expect(Occurrence(nominal: day("2025-03-01"), semantics: .before).lastDay == day("2025-02-28"))
    }

    @Test func monthlyOccurrencesClampToMonthEndsAndRespectTheValidity() {
        let window = day("2024-01-01")...day("2024-04-30")
        let days = OccurrenceCalendar.occurrences(of: .monthly(day: 31), semantics: .by, startsOn: day("2024-02-01"), endsOn: nil, in: window)
        #expect(days.map(\.nominal) == [day("2024-02-29"), day("2024-03-31"), day("2024-04-30")])
        let twentieth = OccurrenceCalendar.occurrences(of: .monthly(day: 20), semantics: .before, startsOn: nil, endsOn: day("2024-03-01"), in: window)
        #expect(twentieth.map(\.nominal) == [day("2024-01-20"), day("2024-02-20")])
    }

    @Test func yearlyOccurrencesOnTwentyNinthFebruaryFallOnTheTwentyEighthInCommonYears() {
        let list = OccurrenceCalendar.occurrences(of: .yearly(month: 2, day: 29), semantics: .by, startsOn: nil, endsOn: nil,
                                                  in: day("2023-01-01")...day("2025-12-31"))
        #expect(list.map(\.nominal) == [day("2023-02-28"), day("2024-02-29"), day("2025-02-28")])
    }

    @Test func aOneOffStaysVisibleHoweverOldItIs() {
        let list = OccurrenceCalendar.occurrences(of: .once(due: day("2022-10-01")), semantics: .before, startsOn: nil, endsOn: nil,
                                                  in: day("2024-06-01")...day("2024-08-01"))
        #expect(list.map(\.nominal) == [day("2022-10-01")])
    }

    @Test func theCivilDayTurnsAtMidnightInVietnamNotUTC() {
        // 23:30 on 29/10 in Hà Nội is 16:30 UTC: still on time for "before 30/10".
        let occurrence = Occurrence(nominal: day("2024-10-30"), semantics: .before)
        let onTime = Obligation.Completion(occurrence: day("2024-10-30"), completedAt: day("2024-10-30").startInstant().addingTimeInterval(-1800))
        let late = Obligation.Completion(occurrence: day("2024-10-30"), completedAt: day("2024-10-30").startInstant().addingTimeInterval(60))
        #expect(!occurrence.isLate(onTime))
        #expect(occurrence.isLate(late))
    }
}
