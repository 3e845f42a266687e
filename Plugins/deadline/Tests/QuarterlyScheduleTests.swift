import CheckKit
import Foundation
import Testing
@testable import DeadlineCheck

/// "Định kỳ hằng quý": one date in each quarter, at the boundaries of quarters and years.
@Suite struct QuarterlyScheduleTests {
    static func quarterly(_ dates: (Int, Int)...) -> Obligation.Schedule {
        .quarterly(dates: dates.map { Obligation.Schedule.MonthDay(month: $0.0, day: $0.1)! })
    }
    static let quarterEnds = quarterly((3, 31), (6, 30), (9, 30), (12, 31))

    func findings(_ today: String, _ schedule: Obligation.Schedule, semantics: Obligation.DueSemantics,
                  startsOn: String = "2024-01-01") throws -> [Finding] {
        let unit = AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune")
        let duty = Obligation(id: "OB-Q", title: LocalizedText(vi: "Báo cáo quý", en: "Quarterly report"), responsibleUnitID: "20107",
                              schedule: schedule, rawSchedule: "", semantics: semantics, startsOn: day(startsOn),
                              section: "II.5", quote: "định kỳ hằng quý, trước ngày 15 của tháng cuối quý")
        let parameters = try DeadlineCheck.Parameters(Settings(specs: DeadlineCheck().descriptor.settings, provided: [:]))
        return DeadlineCheck.findings(today: day(today), parameters: parameters, units: ["20107": unit], obligations: [duty],
                                      roadmap: [], recognitions: [], submissions: [])
    }

    func summary(_ list: [Finding]) -> [String] {
        list.map { "\($0.ruleID) \($0.subject.id) \($0.values["days_left"]?.plain ?? $0.values["days_overdue"]?.plain ?? "")" }
    }

    @Test func occurrencesFallOnEachQuarterAcrossTheYearAndRespectTheValidity() {
        let list = OccurrenceCalendar.occurrences(of: Self.quarterEnds, semantics: .by, startsOn: day("2024-05-01"), endsOn: nil,
                                                  in: day("2024-01-01")...day("2025-03-31"))
        #expect(list.map(\.nominal) == [day("2024-06-30"), day("2024-09-30"), day("2024-12-31"), day("2025-03-31")])
        // 29 February falls on the 28th in a common year, as a yearly date does.
        let leap = OccurrenceCalendar.occurrences(of: Self.quarterly((2, 29), (5, 31), (8, 31), (11, 30)), semantics: .by,
                                                  startsOn: nil, endsOn: nil, in: day("2025-01-01")...day("2025-03-31"))
        #expect(leap.map(\.nominal) == [day("2025-02-28")])
    }

    @Test func byTheLastDayOfAQuarterIsOnTimeThatDayAndOverdueTheNext() throws {
        #expect(summary(try findings("2024-03-31", Self.quarterEnds, semantics: .by)) == ["deadline.due_soon OB-Q@2024-03-31 0"])
        // The first day of the next quarter: this quarter's report is late, the next one 90 days away.
        #expect(summary(try findings("2024-04-01", Self.quarterEnds, semantics: .by)) == ["deadline.overdue OB-Q@2024-03-31 1"])
        // Over the year's end.
        #expect(summary(try findings("2025-01-01", Self.quarterEnds, semantics: .by, startsOn: "2024-12-01"))
                == ["deadline.overdue OB-Q@2024-12-31 1"])
    }

    @Test func beforeTheLastDayOfAQuarterEndsTheDayBefore() throws {
        #expect(summary(try findings("2024-03-30", Self.quarterEnds, semantics: .before)) == ["deadline.due_soon OB-Q@2024-03-31 0"])
        #expect(summary(try findings("2024-03-31", Self.quarterEnds, semantics: .before)) == ["deadline.overdue OB-Q@2024-03-31 1"])
        // "Before the 1st of the quarter's first month" ends on the last day of the quarter before.
        let firstDays = Self.quarterly((1, 1), (4, 1), (7, 1), (10, 1))
        #expect(summary(try findings("2024-06-30", firstDays, semantics: .before, startsOn: "2024-04-02"))
                == ["deadline.due_soon OB-Q@2024-07-01 0"])
        #expect(summary(try findings("2024-07-01", firstDays, semantics: .before, startsOn: "2024-04-02"))
                == ["deadline.overdue OB-Q@2024-07-01 1"])
    }

    @Test func theAlertSaysWhereTheDutyIsWritten() throws {
        let finding = try #require(try findings("2024-03-31", Self.quarterEnds, semantics: .by).first)
        #expect(finding.values["source"] == .text("§II.5"))
        #expect(finding.values["quote"] == .text("định kỳ hằng quý, trước ngày 15 của tháng cuối quý"))
    }
}
