@testable import CheckKit
import Foundation
import Testing

@Suite struct CivilDateTests {
    @Test func parsesISOAndVietnameseFormsAndRejectsImpossibleDates() {
        #expect(CivilDate("2024-10-30") == CivilDate(year: 2024, month: 10, day: 30))
        #expect(CivilDate("30/10/2024") == CivilDate(year: 2024, month: 10, day: 30))
        #expect(CivilDate("1/6/2024") == CivilDate(year: 2024, month: 6, day: 1))
        #expect(CivilDate("2024-02-29") != nil)
        #expect(CivilDate("2023-02-29") == nil)
        #expect(CivilDate("31/04/2024") == nil)
        #expect(CivilDate("2024-13-01") == nil)
        #expect(CivilDate("30-10-2024") == nil)
        #expect(CivilDate("") == nil)
        // Blanks around a date, as a spreadsheet leaves them (tab, no-break space), are not part of it.
        #expect(CivilDate(" 2024-10-30\t") == CivilDate(year: 2024, month: 10, day: 30))
        #expect(CivilDate("\u{00A0}30/10/2024") == CivilDate(year: 2024, month: 10, day: 30))
    }

    @Test func writesFourDigitYearsAndTwoDigitMonthsAndDays() {
        #expect(CivilDate(year: 2024, month: 6, day: 1)!.description == "2024-06-01")
        #expect(CivilDate(year: 987, month: 12, day: 31)!.description == "0987-12-31")
        #expect(CivilDate(year: 12_024, month: 1, day: 9)!.description == "12024-01-09")
    }

    /// CheckKit 3.0.3 writes `DD/MM/YYYY` by hand: the same as `String(format:)` over random
    /// dates of many centuries, years below 1000 and before year 0 included.
    @Test func theVietnameseFormIsAsPrintfWroteIt() {
        var generator = SystemRandomNumberGenerator()
        let dates = (0..<2_000).map { _ in CivilDate(dayNumber: Int.random(in: -800_000...800_000, using: &generator)) }
            + [CivilDate(year: 2024, month: 2, day: 29)!, CivilDate(year: 999, month: 1, day: 1)!, CivilDate(year: 5, month: 12, day: 31)!]
        for date in dates {
            #expect(date.vietnamese == String(format: "%02d/%02d/%04d", date.day, date.month, date.year))
        }
    }

    @Test func calendarArithmeticClampsToMonthEnds() {
        let jan31 = CivilDate(year: 2024, month: 1, day: 31)!
        #expect(jan31.adding(months: 1) == CivilDate(year: 2024, month: 2, day: 29))
        #expect(jan31.adding(months: 13) == CivilDate(year: 2025, month: 2, day: 28))
        #expect(jan31.adding(months: -2) == CivilDate(year: 2023, month: 11, day: 30))
        #expect(CivilDate(year: 2024, month: 2, day: 29)!.adding(years: 3) == CivilDate(year: 2027, month: 2, day: 28))
        #expect(CivilDate(year: 2024, month: 12, day: 31)!.adding(days: 1) == CivilDate(year: 2025, month: 1, day: 1))
        #expect(CivilDate(year: 2024, month: 1, day: 1)!.days(until: CivilDate(year: 2025, month: 1, day: 1)!) == 366)
        #expect(CivilDate(dayNumber: 0) == CivilDate(year: 1970, month: 1, day: 1))
    }

    @Test func civilDateFollowsVietnamTimeNotUTC() {
        // 17:30 UTC on 29 October is 00:30 on 30 October in Hà Nội (UTC+7).
        let instant = ISO8601DateFormatter().date(from: "2024-10-29T17:30:00Z")!
        #expect(CivilDate(instant) == CivilDate(year: 2024, month: 10, day: 30))
        #expect(CivilDate(instant, in: TimeZone(identifier: "UTC")!) == CivilDate(year: 2024, month: 10, day: 29))
        let midnight = CivilDate(year: 2024, month: 10, day: 30)!.startInstant()
        #expect(ISO8601DateFormatter().string(from: midnight) == "2024-10-29T17:00:00Z")
        #expect(CivilDate(year: 2024, month: 10, day: 30)!.vietnamese == "30/10/2024")
    }
}

@Suite struct ValueTests {
    @Test func amountsUseVietnameseGroupingForPeopleAndPlainIntegersForMachines() {
        let amount = Value.amountVND(1_234_567_000)
        #expect(amount.formatted(in: .vi) == "1.234.567.000 đ")
        #expect(amount.formatted(in: .en) == "VND 1,234,567,000")
        #expect(amount.plain == "1234567000")
        #expect(Value.amountVND(-5_000).formatted(in: .vi) == "-5.000 đ")
        #expect(Value.amountVND(999).formatted(in: .vi) == "999 đ")
    }

    @Test func ratesAndDatesFormatPerLanguage() {
        #expect(Value.percent(92.5).formatted(in: .vi) == "92,5%")
        #expect(Value.percent(92.5).formatted(in: .en) == "92.5%")
        #expect(Value.percent(90).formatted(in: .vi) == "90%")
        #expect(Value.percent(92.5).plain == "92.5")
        let date = Value.date(CivilDate(year: 2024, month: 10, day: 30)!)
        #expect(date.formatted(in: .vi) == "30/10/2024")
        #expect(date.plain == "2024-10-30")
    }

    /// The byte-level formatters against the `String(format:)` forms they replaced (CheckKit
    /// 3.0.2), over values that round on both sides of a tie, negatives, large and tiny numbers.
    @Test func numbersFormatAsPrintfRoundsThem() {
        func reference(_ value: Double, _ decimals: Int, _ separator: String) -> String {
            var text = String(format: "%.\(decimals)f", value)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text.replacingOccurrences(of: ".", with: separator)
        }
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 0.05, 0.005, 1.005, 2.675, 92.45, 92.55, 99.95, 99.995, 100,
                                1e-9, -1e-9, 123456789.125, 1e21, -3.14159, .infinity, -.infinity, .nan, .greatestFiniteMagnitude]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { values.append(Double(Int.random(in: -2_000_000...2_000_000, using: &generator)) / 1000) }
        for value in values {
            for (decimals, separator) in [(1, ","), (2, ","), (2, "."), (4, ".")] {
                #expect(Value.trimmed(value, decimals: decimals, separator: separator) == reference(value, decimals, separator),
                        "\(value) to \(decimals)")
            }
        }
        for value: Int64 in [0, 7, -7, 999, 1_000, -1_000, 12_345, 999_999, 1_000_000, .max, .min + 1] {
            let digits = String(value.magnitude)
            var groups: [String] = []
            var end = digits.count
            while end > 0 { groups.insert(String(Array(digits)[max(0, end - 3)..<end]), at: 0); end -= 3 }
            #expect(Value.grouped(value, separator: ".") == (value < 0 ? "-" : "") + groups.joined(separator: "."))
        }
    }

    @Test func textIsShownAsWrittenAndListsAreJoinedWithCommas() {
        #expect(Value.text("a, b,c").formatted(in: .vi) == "a, b,c")
        #expect(Value.list(["17", "17.11"]).formatted(in: .en) == "17, 17.11")
        #expect(Value.list(["17", "17.11"]).plain == "17,17.11")
    }

    @Test func templatesFillSubjectAndValuesAndKeepUnknownPlaceholders() {
        let rule = Rule(id: "demo.rule", title: LocalizedText(vi: "t", en: "t"), defaultSeverity: .warning,
                        messageID: "0123456789abcdef0123456789abcdef",
                        template: LocalizedText(vi: "{subject} nợ {amount} {missing}", en: "{subject} owes {amount}"))
        let text = rule.render(subject: Subject(kind: "unit", id: "X", name: "Tiên Lãnh"), values: ["amount": .amountVND(1_500_000)])
        #expect(text.vi == "Tiên Lãnh nợ 1.500.000 đ {missing}")
        #expect(text.en == "Tiên Lãnh owes VND 1,500,000")
    }
}

@Suite struct SettingsTests {
    let specs = [
        SettingSpec("windows", .list(of: .integer(1...365)), default: .list([.integer(30), .integer(7)]), help: "days"),
        SettingSpec("threshold", .number(0...100), default: .number(90), help: "percent"),
        SettingSpec("cutoff", .date, default: .text("2024-06-01"), help: "date"),
        SettingSpec("mode", .text(choices: ["a", "b"]), default: .text("a"), help: "mode"),
    ]

    @Test func defaultsFillUnsetKeysAndIntegersAreAcceptedAsNumbers() throws {
        let settings = try Settings(specs: specs, provided: ["threshold": .integer(80)])
        #expect(try settings.integers("windows") == [30, 7])
        #expect(try settings.number("threshold") == 80)
        #expect(try settings.date("cutoff") == CivilDate(year: 2024, month: 6, day: 1))
        #expect(try settings.text("mode") == "a")
    }

    @Test func badSettingsNameTheKeyAndWhatWasExpected() {
        #expect(throws: SettingsError(key: "thresold", message: "unknown setting; known: cutoff, mode, threshold, windows")) {
            try Settings(specs: specs, provided: ["thresold": .integer(80)])
        }
        #expect(throws: SettingsError(key: "windows", message: "expected an integer from 1 to 365, found 0")) {
            try Settings(specs: specs, provided: ["windows": .list([.integer(0)])])
        }
        #expect(throws: SettingsError(key: "cutoff", message: "expected a date that exists, as YYYY-MM-DD, found \"2024-02-30\"")) {
            try Settings(specs: specs, provided: ["cutoff": .text("2024-02-30")])
        }
        #expect(throws: SettingsError(key: "mode", message: "expected one of a, b, found \"c\"")) {
            try Settings(specs: specs, provided: ["mode": .text("c")])
        }
    }

    @Test func descriptorProblemsCatchMalformedRulesAndDefaults() {
        let rule = Rule(id: "other.Rule", title: LocalizedText(vi: "", en: ""), defaultSeverity: .info,
                        messageID: "XYZ", template: LocalizedText(vi: "", en: ""))
        let descriptor = ModuleDescriptor(name: "demo", version: "1", summary: LocalizedText(vi: "", en: ""),
                                          settings: [SettingSpec("n", .integer(1...2), default: .integer(5), help: "")],
                                          rules: [rule])
        let problems = descriptor.problems()
        #expect(problems.contains("rule id 'other.Rule' must be 'demo.<name>' in lower-case letters, digits and '_'"))
        #expect(problems.contains("rule 'other.Rule': MESSAGE_ID 'XYZ' must be 32 lower-case hex digits"))
        #expect(problems.contains("the default of setting 'n': expected an integer from 1 to 2, found 5"))
    }
}
