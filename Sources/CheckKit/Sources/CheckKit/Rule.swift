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
    /// The document and section that set the rule, so that the person who gets the alert can read
    /// the duty in its own words. Nil only for a rule no document states (an operator's own check).
    public let source: RuleSource?

    public init(id: String, title: LocalizedText, defaultSeverity: Severity, messageID: String,
                template: LocalizedText, source: RuleSource? = nil, pendingFor: Duration = .zero) {
        self.id = id
        self.title = title
        self.defaultSeverity = defaultSeverity
        self.messageID = messageID
        self.template = template
        self.source = source
        self.pendingFor = pendingFor
    }

    /// Renders the template for a subject and values.
    public func render(subject: Subject, values: [String: Value]) -> LocalizedText {
        Rule.render(template, subject: subject, values: values)
    }

    /// Renders a rule's template: ``Finding/summary``, and the daemon's alerts, which keep the
    /// template of the finding they came from.
    public static func render(_ template: LocalizedText, subject: Subject, values: [String: Value]) -> LocalizedText {
        LocalizedText(vi: fill(template.vi, subject: subject, values: values, language: .vi),
                      en: fill(template.en, subject: subject, values: values, language: .en))
    }

    /// One language of ``render(_:subject:values:)``: a receiver configured for one language
    /// renders only that one.
    public static func render(_ template: LocalizedText, subject: Subject, values: [String: Value], in language: Language) -> String {
        fill(template.text(in: language), subject: subject, values: values, language: language)
    }

    static func fill(_ template: String, subject: Subject, values: [String: Value], language: Language) -> String {
        var output = ""
        output.reserveCapacity(template.utf8.count + 64)
        var rest = template[...]
        // Braces are searched as bytes: searching Characters segments every grapheme of the
        // Vietnamese text, and every finding renders its message twice.
        while let open = rest.utf8.firstIndex(of: UInt8(ascii: "{")) {
            guard let close = rest[open...].utf8.firstIndex(of: UInt8(ascii: "}")) else { break }
            output += rest[..<open]
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

/// Where a rule comes from: a document and the section of it that states the rule.
public struct RuleSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The document: the number of one of the programme's seed documents as its file is named
    /// (`002`), or a citation (`Quyết định 18/2022/QĐ-TTg`).
    public let document: String
    /// The section as the document numbers it: `IV.9`, `II.6`, `IV.4.c`; empty for the whole document.
    public let section: String

    public init(_ document: String, _ section: String = "") {
        self.document = document
        self.section = section
    }

    /// Parses what ``description`` writes (`002 §IV.9`, or a document alone); nil for empty text.
    public init?(_ text: String) {
        let parts = text.split(separator: "§", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let document = parts.first, !document.isEmpty else { return nil }
        self.init(document, parts.count > 1 ? parts[1] : "")
    }

    /// `002 §IV.9`: the form of the annotation `source` and of the journald field `NTMWATCH_SOURCE`.
    public var description: String { section.isEmpty ? document : "\(document) §\(section)" }
}
