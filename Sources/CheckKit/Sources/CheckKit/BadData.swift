/// The rule every module declares for records it cannot judge (a date that does not exist, a unit
/// not in the catalogue): one finding per record, naming what is wrong and what to fix, so that bad
/// data is an alert someone acts on instead of a failed run or a silent gap.
///
/// ```swift
/// static let badData = BadData(module: "debt", messageID: "a790…",
///     title: LocalizedText(vi: "Dữ liệu công trình không dùng được", en: "Unusable project data"),
///     record: LocalizedText(vi: "Công trình {subject}", en: "Project {subject}"),
///     fix: LocalizedText(vi: "sửa dữ liệu công trình này trong kho", en: "fix this project's rows in the store"))
/// findings.append(Rules.badData.finding(subject, [LocalizedText(vi: "…", en: "…")]))
/// ```
public struct BadData: Sendable {
    /// `<module>.bad_data`, a warning, cited to the README section on check modules. Its template
    /// is `record: {problem}; fix`, where `record` may use the finding's values (`{survey_id}`).
    public let rule: Rule

    public init(module: String, messageID: String, title: LocalizedText, record: LocalizedText, fix: LocalizedText? = nil) {
        func template(_ record: String, _ fix: String?) -> String {
            "\(record): {\(BadData.problemKey)}" + (fix.map { "; \($0)" } ?? "")
        }
        rule = Rule(id: "\(module).bad_data", title: title, defaultSeverity: .warning, messageID: messageID,
                    template: LocalizedText(vi: template(record.vi, fix?.vi), en: template(record.en, fix?.en)),
                    source: RuleSource("ntmwatch", "Check modules"))
    }

    /// The value holding the problems, joined with "; " in each language.
    public static let problemKey = "problem"

    /// The finding for one record and everything wrong with it.
    public func finding(_ subject: Subject, _ problems: [LocalizedText], values: [String: Value] = [:]) -> Finding {
        var values = values
        values[BadData.problemKey] = .localized(.joined(problems))
        return Finding(rule: rule, subject: subject, values: values)
    }

    public func finding(_ subject: Subject, vi: String, en: String, values: [String: Value] = [:]) -> Finding {
        finding(subject, [LocalizedText(vi: vi, en: en)], values: values)
    }
}
