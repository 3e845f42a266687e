import CheckKit
import Foundation
import NTMExtract
import Testing

/// One test per form of time limit the genre writes; each reads the form inside a plausible sentence.
@Suite struct TimeGrammarTests {
    let issued = CivilDate(year: 2024, month: 1, day: 15)!

    func only(_ text: String) throws -> Deadline {
        let found = TimeGrammar.expressions(in: text, reference: issued)
        try #require(found.count == 1, "expected one time expression in «\(text)», found \(found.map(\.words))")
        return found[0].deadline
    }

    func expect(_ text: String, _ due: String, _ semantics: Deadline.Semantics, _ recurrence: String = "once",
                lastDay: String? = nil) throws {
        let d = try only(text)
        #expect(d.due.description == due, "\(text)")
        #expect(d.semantics == semantics, "\(text)")
        #expect(d.recurrence == recurrence, "\(text)")
        if let lastDay { #expect(d.lastDay.description == lastDay, "\(text)") }
    }

    @Test func beforeADayIsOnTimeUntilTheDayBefore() throws {
        try expect("cấp xã trình cấp huyện trước ngày 28/02/2024", "2024-02-28", .before, lastDay: "2024-02-27")
        try expect("trình UBND tỉnh trước ngày 5/4/2024", "2024-04-05", .before)
        try expect("báo cáo trước ngày 25-4-2024", "2024-04-25", .before)
    }

    @Test func noLaterThanIncludesTheDay() throws {
        try expect("gửi báo cáo chậm nhất là ngày 10/4/2024", "2024-04-10", .by, lastDay: "2024-04-10")
        try expect("gửi báo cáo chậm nhất ngày 10/04/2024", "2024-04-10", .by)
        try expect("báo cáo UBND huyện đến hết ngày 25/4/2024", "2024-04-25", .by, lastDay: "2024-04-25")
    }

    @Test func datesInWords() throws {
        try expect("gửi về Văn phòng trước ngày mười lăm tháng sáu năm 2024", "2024-06-15", .before)
        try expect("trước ngày hai mươi tám tháng hai năm 2024", "2024-02-28", .before)
    }

    @Test func monthsQuartersHalvesAndYears() throws {
        try expect("hoàn thành rà soát quy hoạch trước tháng 6/2024", "2024-06-01", .before, lastDay: "2024-05-31")
        try expect("hoàn thành trong tháng 9/2024", "2024-09-30", .withinMonth, lastDay: "2024-09-30")
        try expect("lựa chọn nhà thầu chậm nhất trong tháng 3/2024", "2024-03-31", .withinMonth)
        try expect("báo cáo UBND tỉnh trong quý III/2024", "2024-09-30", .withinQuarter)
        try expect("trình công nhận trong quý I/2025", "2025-03-31", .withinQuarter)
        try expect("hoàn thành trước quý IV/2024", "2024-10-01", .before, lastDay: "2024-09-30")
        try expect("giải ngân trong 6 tháng đầu năm 2024", "2024-06-30", .withinHalf)
        try expect("tổ chức tuyên truyền trong năm 2024", "2024-12-31", .withinYear)
        try expect("đảm bảo giải ngân 100% vốn kế hoạch năm 2024 đã được giao", "2024-12-31", .withinYear)
    }

    @Test func daysCountedFromIssue() throws {
        try expect("trình UBND xã phê duyệt trong vòng 30 ngày kể từ ngày ban hành Kế hoạch này", "2024-02-14", .by)
    }

    @Test func recurringDutiesStartAfterTheDocumentsDate() throws {
        try expect("định kỳ hằng tháng, trước ngày 05, báo cáo", "2024-02-05", .before, "monthly:05")
        try expect("gửi về Sở trước ngày 20 hàng tháng", "2024-01-20", .before, "monthly:20")
        try expect("báo cáo UBND tỉnh trước ngày 10/10 hằng năm", "2024-10-10", .before, "yearly:10-10")
        try expect("định kỳ hằng năm, trước ngày 15 tháng 12", "2024-12-15", .before, "yearly:12-15")
        try expect("định kỳ hằng quý, trước ngày 15 của tháng cuối quý", "2024-03-15", .before,
                   "quarterly:03-15|06-15|09-15|12-15")
    }

    @Test func twoDatesForTwoClassesAreTwoExpressions() {
        let found = TimeGrammar.expressions(in: "rà soát trước ngày 30/6/2024 hoặc trước ngày 30/6/2025 (nếu thôn không đảm bảo duy trì)",
                                            reference: issued)
        #expect(found.map(\.deadline.due.description) == ["2024-06-30", "2025-06-30"])
    }

    @Test func impossibleDatesAreNotRead() {
        #expect(TimeGrammar.expressions(in: "trước ngày 31/4/2024", reference: issued).isEmpty)
        #expect(TimeGrammar.expressions(in: "trong tháng 13/2024", reference: issued).isEmpty)
    }
}
