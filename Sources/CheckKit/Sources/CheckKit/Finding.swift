/// What a finding is about: a unit, a project, an obligation, a target...
public struct Subject: Sendable, Hashable, Codable {
    /// `unit`, `project`, `obligation`, `target`, `survey`, ... (free text, lower-case).
    public var kind: String
    public var id: String
    /// The display name, with diacritics ("Đại Chánh").
    public var name: String
    /// The administrative unit the subject belongs to (a project's commune, an obligation's
    /// responsible unit). The daemon derives the district and province labels used for routing
    /// from it, so modules need not.
    public var unitID: String?

    public init(kind: String, id: String, name: String, unitID: String? = nil) {
        self.kind = kind
        self.id = id
        self.name = name
        self.unitID = unitID
    }
}

/// One problem found by one evaluation. The daemon turns findings into alerts keyed by
/// module, rule, subject and labels; values and summary may change without making a new alert.
///
/// A finding keeps its rule's template, not the text: the summary is rendered when someone reads
/// it. A national cycle finds tens of thousands of problems again unchanged, and rendering every
/// one of them in both languages was most of some modules' time (issue 21); the daemon renders
/// only what it notifies, shows or exports.
public struct Finding: Sendable, Hashable, Codable {
    public var ruleID: String
    public var subject: Subject
    public var severity: Severity
    /// Identifying labels, e.g. `escalation_target` or `occurrence`. Keep them stable from one
    /// evaluation to the next: a changed label is a different alert.
    public var labels: [String: String]
    /// Facts about the problem (due date, days overdue, amount); not identifying.
    public var values: [String: Value]
    /// The rule's template (``Rule/template``) that ``summary`` is rendered from.
    public var template: LocalizedText

    /// A finding of `rule`, whose summary is the rule's template filled with `subject` and `values`.
    /// `severity` defaults to the rule's default severity.
    public init(rule: Rule, subject: Subject, severity: Severity? = nil,
                labels: [String: String] = [:], values: [String: Value] = [:]) {
        self.ruleID = rule.id
        self.subject = subject
        self.severity = severity ?? rule.defaultSeverity
        self.labels = labels
        self.values = values
        self.template = rule.template
    }

    /// The summary people read, rendered now from ``template``, ``subject`` and ``values``.
    public var summary: LocalizedText { Rule.render(template, subject: subject, values: values) }
}
