import CheckKit
import Testing

/// What CheckKit 3 adds for module authors: a value in both languages, settings declared once and
/// read typed, and the shared bad_data rule.
@Suite struct CheckKit3Tests {
    static let rule = Rule(id: "demo.rule", title: LocalizedText(vi: "t", en: "t"), defaultSeverity: .warning,
                           messageID: "0123456789abcdef0123456789abcdef",
                           template: LocalizedText(vi: "{subject}: {problem}", en: "{subject}: {problem}"))

    @Test func aLocalizedValueIsRenderedInTheReadersLanguage() {
        let problem = Value.localized(LocalizedText(vi: "phần nợ quá hạn", en: "the debt is overdue"))
        let text = Self.rule.render(subject: Subject(kind: "unit", id: "X", name: "Tiên Lãnh"), values: ["problem": problem])
        #expect(text.vi == "Tiên Lãnh: phần nợ quá hạn")
        #expect(text.en == "Tiên Lãnh: the debt is overdue")
        #expect(problem.plain == "phần nợ quá hạn")             // machine form: the programme's language
        #expect(problem.plain(in: .en) == "the debt is overdue")
        #expect(Value.amountVND(1_000).plain(in: .en) == "1000") // other values keep one machine form
    }

    /// A brace left open at the end repeated the text before it ("…, , {") until it was kept as written.
    @Test func aTemplateKeepsWhatItCannotFillAndTheTextAroundIt() {
        let rule = Rule(id: "demo.fill", title: LocalizedText(vi: "t", en: "t"), defaultSeverity: .warning,
                        messageID: "0123456789abcdef0123456789abcdef",
                        template: LocalizedText(vi: "Xã {subject} còn {thiếu} — {amount}, {", en: "ễ{subject}}{amount}"))
        let text = rule.render(subject: Subject(kind: "unit", id: "X", name: "Đại Chánh"), values: ["amount": .amountVND(1_500_000)])
        #expect(text.vi == "Xã Đại Chánh còn {thiếu} — 1.500.000 đ, {")
        #expect(text.en == "ễĐại Chánh}VND 1,500,000")
    }

    enum Declared {
        static let days = Setting<Int>("days", .integer(0...30), default: 7, help: "days")
        static let rate = Setting<Double>("rate", .number(0...100), default: 90, help: "percent")
        static let due = Setting<CivilDate>("due", .date, default: CivilDate(year: 2024, month: 3, day: 30)!, help: "date")
        static let kinds = Setting<[String]>("kinds", .list(of: .text(choices: [])), default: ["ntm_results"], help: "kinds")
        static let margins = Setting<[String: Double]>("margins", .table, written: .table([:]), help: "per criterion")
        static let specs = [days.spec, rate.spec, due.spec, kinds.spec, margins.spec]
    }

    @Test func aSettingIsDeclaredOnceAndReadTyped() throws {
        #expect(Declared.days.spec.defaultValue == .integer(7))
        #expect(Declared.due.spec.defaultValue == .text("2024-03-30"))
        let settings = try Settings(specs: Declared.specs, provided: ["rate": .integer(80), "margins": .table(["17.11": .integer(3)])])
        #expect(try settings[Declared.days] == 7)
        #expect(try settings[Declared.rate] == 80)               // an integer is a number
        #expect(try settings[Declared.due] == CivilDate(year: 2024, month: 3, day: 30))
        #expect(try settings[Declared.kinds] == ["ntm_results"])
        #expect(try settings[Declared.margins] == ["17.11": 3])
    }

    @Test func theTypesOwnReadingIsCheckedAtLoadAndNamesThePart() {
        // A table entry of the wrong type is refused when the settings are validated, not at the first run.
        #expect(throws: SettingsError(key: "margins.17.11", message: "expected a number, found \"a lot\"")) {
            try Settings(specs: Declared.specs, provided: ["margins": .table(["17.11": .text("a lot")])])
        }
    }

    @Test func badDataIsOneRuleAndOneFindingPerRecordWithEveryProblem() {
        let badData = BadData(module: "demo", messageID: "0123456789abcdef0123456789abcdef",
                              title: LocalizedText(vi: "Dữ liệu không dùng được", en: "Unusable data"),
                              record: LocalizedText(vi: "Công trình {subject}", en: "Project {subject}"),
                              fix: LocalizedText(vi: "sửa dữ liệu trong kho", en: "fix it in the store"))
        #expect(badData.rule.id == "demo.bad_data")
        #expect(badData.rule.defaultSeverity == .warning)
        #expect(badData.rule.source?.description == "ntmwatch §Check modules")
        let finding = badData.finding(Subject(kind: "project", id: "P1", name: "Đường ĐH5"), [
            LocalizedText(vi: "thiếu ngày phân bổ", en: "no allocation date"),
            LocalizedText(vi: "xã 'X' không có", en: "commune 'X' unknown"),
        ])
        #expect(finding.summary.vi == "Công trình Đường ĐH5: thiếu ngày phân bổ; xã 'X' không có; sửa dữ liệu trong kho")
        #expect(finding.summary.en == "Project Đường ĐH5: no allocation date; commune 'X' unknown; fix it in the store")
    }
}
