import Foundation

/// A kind of problem a module can report. Its id is part of the module's interface: alerts,
/// routes, silences and the journald catalog refer to it, so it never changes once released.
public struct Rule: Sendable, Hashable {
    /// `<module>.<rule>`, lower-case ASCII, e.g. `deadline.overdue`.
    public let id: String
    public let title: LocalizedText
    public let defaultSeverity: Severity
    /// The journald `MESSAGE_ID`: 128 bits as 32 lower-case hex digits (`systemd-id128 new`).
    public let messageID: String
    /// The summary people read. `{subject}` is the subject's name; `{key}` is the finding's value
    /// `key`, formatted for the language. An unknown placeholder is left as written.
    public let template: LocalizedText
    /// How long a finding must persist before its alert fires (Prometheus' `for`); zero fires at once.
    public let pendingFor: Duration

    public init(id: String, title: LocalizedText, defaultSeverity: Severity, messageID: String,
                template: LocalizedText, pendingFor: Duration = .zero) {
        self.id = id
        self.title = title
        self.defaultSeverity = defaultSeverity
        self.messageID = messageID
        self.template = template
        self.pendingFor = pendingFor
    }

    /// Renders the template for a subject and values.
    public func render(subject: Subject, values: [String: Value]) -> LocalizedText {
        LocalizedText(vi: Rule.fill(template.vi, subject: subject, values: values, language: .vi),
                      en: Rule.fill(template.en, subject: subject, values: values, language: .en))
    }

    static func fill(_ template: String, subject: Subject, values: [String: Value], language: Language) -> String {
        var output = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let key = String(rest[rest.index(after: open)..<close])
            if key == "subject" {
                output += subject.name
            } else if let value = values[key] {
                output += value.formatted(in: language)
            } else {
                output += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }
}
