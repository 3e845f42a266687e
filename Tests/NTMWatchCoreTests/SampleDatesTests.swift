import CheckKit
import Foundation
import NTMStore
import Testing

/// Every date of the sample (the obligations and the modules' sample settings) is read against the
/// seed it cites, with the seeds' own semantics: "trước ngày D" is due before D (the last day is
/// D−1, `before`), "đến ngày D" is due on D (`by`), and a period ("trong tháng 3/2024", "trước
/// tháng 6/2024", "trong quý I/2024", "năm 2022") is written as the first day after it.
@Suite struct SampleDatesTests {
    static let seeds = "\(Sandbox.repository)/Tests/Seeds"

    /// The seed's text with its line breaks and runs of spaces as one space: dates and phrases
    /// are often cut across lines.
    static func seed(_ file: String) throws -> String {
        try String(contentsOfFile: "\(seeds)/\(file)", encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// `d/m/yyyy` as the seeds write it, with or without leading zeros.
    static func written(_ day: Int, _ month: Int, _ year: Int? = nil) -> String {
        "0?\(day)/0?\(month)" + (year.map { "/\($0)" } ?? "") + "(?![0-9/])"
    }

    /// The phrases of a seed that give `date` with `semantics`: each a regular expression.
    static func phrases(for date: CivilDate, _ semantics: Obligation.DueSemantics) -> [String] {
        switch semantics {
        case .by:
            var phrases = ["đến ngày \(written(date.day, date.month, date.year))"]
            if date.month == 12 && date.day == 31 { phrases.append("đến (cuối )?năm \(date.year)") }
            return phrases
        case .before:
            var phrases = ["trước ngày \(written(date.day, date.month, date.year))"]
            guard date.day == 1 else { return phrases }
            // The first day after a period the seed names.
            let previous = date.adding(days: -1)
            phrases.append("trước tháng 0?\(date.month)/\(date.year)")
            phrases.append("trong tháng 0?\(previous.month)/\(previous.year)")
            if date.month == 4 { phrases.append("trong quý I/\(date.year)") }
            if date.month == 1 { phrases.append("vốn kế hoạch năm \(previous.year)") }
            return phrases
        }
    }

    struct Duty {
        let id: String, schedule: String, semantics: Obligation.DueSemantics, basis: String
        let file: String
    }

    static func duties(_ relative: String) throws -> [Duty] {
        let path = "\(Sandbox.repository)/Config/sample/\(relative)"
        let rows = try CSVRows.parse(try String(contentsOfFile: path, encoding: .utf8), delimiter: ",")
        let header = try #require(rows.first).fields
        func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "\(path): no column \(name)") }
        let id = try column("id"), schedule = try column("schedule"), semantics = try column("semantics"), basis = try column("legal_basis")
        return try rows.dropFirst().filter { $0.fields.count == header.count }.map { row in
            Duty(id: row.fields[id], schedule: row.fields[schedule],
                 semantics: try #require(Obligation.DueSemantics(rawValue: row.fields[semantics]), "\(path) row \(row.row): semantics"),
                 basis: row.fields[basis], file: "\(relative) row \(row.row)")
        }
    }

    /// An obligation whose date no document gives must say so in its legal basis.
    static func isMarkedInvented(_ basis: String) -> Bool {
        basis.contains("giả định") || basis.contains("minh họa")
    }

    @Test(arguments: ["obligations.csv", "ha-tinh/obligations.csv"])
    func everyObligationsDateIsTheDateItsSeedGives(_ sample: String) throws {
        for duty in try Self.duties(sample) {
            let cited = duty.basis.matches(of: /[0-9]{3}_[0-9a-f]{16}\.txt/).map { String($0.output) }
            if Self.isMarkedInvented(duty.basis) { continue }
            try #require(!cited.isEmpty, "\(duty.file) (\(duty.id)): the legal basis cites no seed and is not marked as made up")
            let texts = try cited.map(Self.seed)
            let patterns: [String]
            if let date = CivilDate(duty.schedule) {
                patterns = Self.phrases(for: date, duty.semantics)
            } else if let match = duty.schedule.wholeMatch(of: /yearly:([0-9]{2})-([0-9]{2})/) {
                let (month, day) = (Int(match.1)!, Int(match.2)!)
                let lead = duty.semantics == .before ? "trước ngày" : "đến ngày"
                patterns = ["\(lead) \(Self.written(day, month)) h[ằà]ng năm"]
            } else if let match = duty.schedule.wholeMatch(of: /monthly:([0-9]{1,2})/) {
                let lead = duty.semantics == .before ? "trước ngày" : "đến ngày"
                patterns = ["\(lead) \(match.1) h[ằà]ng tháng"]
            } else {
                Issue.record("\(duty.file) (\(duty.id)): schedule '\(duty.schedule)' is not one this test reads")
                continue
            }
            let found = patterns.contains { pattern in texts.contains { $0.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil } }
            #expect(found, "\(duty.file) (\(duty.id)): '\(duty.schedule)' \(duty.semantics.rawValue) is not in \(cited.joined(separator: ", ")) as any of \(patterns)")
        }
    }

    @Test func aDutyWithoutADateInItsSeedIsMarkedMadeUp() throws {
        let monthly = try #require(try Self.duties("obligations.csv").first { $0.id == "OB-22" })
        #expect(monthly.schedule == "monthly:5")
        #expect(Self.isMarkedInvented(monthly.basis))
        let text = try Self.seed("002_5c745609a7f448fa.txt")
        #expect(text.range(of: "trước ngày 0?5 h[ằà]ng tháng", options: .regularExpression) == nil)
    }

    /// The modules' sample settings that are dates of the seeds: the line that holds them (every
    /// date on it is checked), the seed and its semantics.
    static let settingDates: [(module: String, line: String, seed: String, semantics: Obligation.DueSemantics)] = [
        ("deadline", "\"2023\":", "002_5c745609a7f448fa.txt", .before),
        ("deadline", "\"2024\":", "002_5c745609a7f448fa.txt", .before),
        ("deadline", "\"2025\":", "002_5c745609a7f448fa.txt", .before),
        ("debt", "legacy_cutoff:", "002_5c745609a7f448fa.txt", .before),
        ("disbursement", "closeout_before:", "002_5c745609a7f448fa.txt", .before),
        ("standards", "reassessment_due:", "002_5c745609a7f448fa.txt", .before),
        ("standards", "minimum_by:", "002_5c745609a7f448fa.txt", .by),
    ]

    @Test func theModulesSampleDatesAreTheSeeds() throws {
        for (module, key, seed, semantics) in Self.settingDates {
            let yaml = try String(contentsOfFile: "\(Sandbox.repository)/Plugins/\(module)/\(module).yaml", encoding: .utf8)
            let line = try #require(yaml.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key) },
                                    "Plugins/\(module)/\(module).yaml: no line '\(key)'")
            let dates = line.matches(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/).compactMap { CivilDate(String($0.output)) }
            #expect(!dates.isEmpty, "Plugins/\(module)/\(module).yaml: no date on '\(line)'")
            let text = try Self.seed(seed)
            for date in dates {
                let patterns = Self.phrases(for: date, semantics)
                #expect(patterns.contains { text.range(of: $0, options: [.regularExpression, .caseInsensitive]) != nil },
                        "\(module).yaml \(key) \(date) \(semantics.rawValue) is not in \(seed) as any of \(patterns)")
            }
        }
        let text = try Self.seed("002_5c745609a7f448fa.txt")
        // The yearly dates of the disbursement rules: 0% as of 30/6, the report before 10/10, from 1/10.
        let disbursement = try String(contentsOfFile: "\(Sandbox.repository)/Plugins/disbursement/disbursement.yaml", encoding: .utf8)
        for (key, pattern) in [("midyear: \"06-30\"", "đến ngày 30/6 h[ằà]ng năm"), ("report_due_before: \"10-10\"", "trước ngày 10/10 h[ằà]ng năm"),
                               ("report_from: \"10-01\"", "đến ngày 01/10 h[ằà]ng năm"),
                               // The milestones are checked from the day the seed says "trước ngày": the share is late on it.
                               ("milestones: {\"06-30\": 50, \"12-31\": 100}", "50% vốn năm 2024 trước ngày 30/6/2024, 100% vốn năm 2024 trước ngày 31/12/2024")] {
            #expect(disbursement.contains(key), "disbursement.yaml: no \(key)")
            #expect(text.range(of: pattern, options: .regularExpression) != nil, "002: no '\(pattern)'")
        }
        // Every district has a recognized commune by the end of 2024 (critical after it).
        let standards = try String(contentsOfFile: "\(Sandbox.repository)/Plugins/standards/standards.yaml", encoding: .utf8)
        #expect(standards.contains("district_target_date: \"2024-12-31\""))
        #expect(text.contains("năm 2024 phải thoát khỏi nhóm huyện trắng xã NTM"))
    }
}
