import CheckKit
import Foundation

/// A finding as the alert stages see it: with the check that produced it, its identifying
/// labels (hierarchy included), the rule's MESSAGE_ID and the configured severity and `for`.
public struct LabeledFinding: Sendable, Hashable {
    public var finding: Finding
    public var check: String
    public var messageID: String
    public var labels: [String: String]
    public var severity: Severity
    public var pendingFor: Duration
    /// The rule's document and section (`002 §IV.9`), carried to every receiver.
    public var source: String?
    /// Computed once: sorting and tracking read it many times per finding.
    public let fingerprint: String

    public init(finding: Finding, check: String, messageID: String, labels: [String: String], severity: Severity, pendingFor: Duration,
                source: String? = nil) {
        self.init(finding: finding, check: check, messageID: messageID, labels: labels, fingerprint: Fingerprint.of(labels),
                  severity: severity, pendingFor: pendingFor, source: source)
    }

    /// With the fingerprint of `labels` already taken (``Fingerprint/value(ofSorted:)``): the
    /// labeller orders a check's findings by it before it makes them.
    public init(finding: Finding, check: String, messageID: String, labels: [String: String], fingerprint: String, severity: Severity,
                pendingFor: Duration, source: String? = nil) {
        assert(fingerprint == Fingerprint.of(labels), "the fingerprint given is not the labels'")
        self.finding = finding
        self.check = check
        self.messageID = messageID
        self.labels = labels
        self.severity = severity
        self.pendingFor = pendingFor
        self.source = source
        self.fingerprint = fingerprint
    }
}

/// A finding as the tracker first reads it: what tells whether its alert changed. The tracker
/// calls ``labeled()`` only for an alert that is new, changed or due, so that the labelled
/// finding (a table of labels, some 700 bytes) is not made for the many a steady cycle finds
/// again unchanged (issue 21).
///
/// The contract: `key`, `severity`, `pendingFor` and `contentHash` are those of `labeled()`
/// (`AlertKey(fingerprint)`, its severity and `for`, ``LabeledFinding/contentHash(of:source:)``
/// of its finding and source). The tracker decides by the four and records the labelled finding,
/// so a type that broke it would file the alert under another key; debug builds check it.
public protocol TrackableFinding {
    var key: AlertKey { get }
    var severity: Severity { get }
    var pendingFor: Duration { get }
    /// ``LabeledFinding/contentHash(of:source:)`` of the finding.
    var contentHash: Int { get }
    func labeled() -> LabeledFinding
}

extension LabeledFinding: TrackableFinding {
    public var key: AlertKey { AlertKey(fingerprint) }
    public var contentHash: Int { Self.contentHash(of: finding, source: source) }
    public func labeled() -> LabeledFinding { self }

    /// The hash the tracker compares an alert's content by (subject, values, template, source):
    /// equal content, equal hash. Seeded per process, never stored.
    public static func contentHash(of finding: Finding, source: String?) -> Int {
        AlertContent.hash(subject: finding.subject, values: finding.values, message: .template(finding.template), source: source)
    }
}

/// An alert: one problem that persists across evaluations, from pending to firing to resolved.
///
/// Its fields live in one shared, copy-on-write box: the tracker, the step, the ledger's
/// notifications and the state writer each hold a copy of tens of thousands of alerts at national
/// scale, and a copy of twenty fields was twenty retains (a tenth of a national cycle, issue 21).
/// A copy is now one retain, and an unchanged alert keeps the very box it was loaded in, so a
/// steady cycle leaves the long-lived memory where it was instead of scattering new copies.
public struct Alert: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable { case pending, firing, resolved }

    /// The stored fields; their names are the JSON keys of the state's older rows.
    struct Fields: Sendable, Codable, Hashable {
        var fingerprint: String
        var scope: String
        var check: String
        var ruleID: String
        var messageID: String
        var labels: [String: String]
        var subject: Subject
        var severity: Severity
        var status: Status
        var activeSince: Date
        var firingSince: Date?
        var resolvedAt: Date?
        var lastNotifiedAt: Date?
        var lastNotifiedSeverity: Severity?
        var values: [String: Value]
        /// JSON key `summary`, as the older rows wrote it.
        var summary: MessageField
        var silencedBy: [String]?
        var inhibitedBy: String?
        var source: String?
    }

    // Mutated only through `fields`' setter, which copies a shared box first (as Array does):
    // a box is never changed while another alert can see it.
    private final class Box: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    var fields: Fields {
        get { box.fields }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            yield &box.fields
        }
    }

    public init(fingerprint: String, scope: String, check: String, ruleID: String, messageID: String, labels: [String: String],
                subject: Subject, severity: Severity, status: Status, activeSince: Date, firingSince: Date? = nil,
                resolvedAt: Date? = nil, lastNotifiedAt: Date? = nil, lastNotifiedSeverity: Severity? = nil,
                values: [String: Value], message: Message, silencedBy: [String]? = nil, inhibitedBy: String? = nil,
                source: String? = nil) {
        box = Box(Fields(
            fingerprint: fingerprint, scope: scope, check: check, ruleID: ruleID, messageID: messageID, labels: labels,
            subject: subject, severity: severity, status: status, activeSince: activeSince, firingSince: firingSince,
            resolvedAt: resolvedAt, lastNotifiedAt: lastNotifiedAt, lastNotifiedSeverity: lastNotifiedSeverity,
            values: values, summary: MessageField(message), silencedBy: silencedBy, inhibitedBy: inhibitedBy, source: source))
    }

    public init(from decoder: any Decoder) throws { box = Box(try Fields(from: decoder)) }

    /// JSON carries the summary as read, never a template: it is what `ntmwatch alerts` prints and
    /// what the state's older rows hold.
    public func encode(to encoder: any Encoder) throws {
        var fields = box.fields
        fields.summary = MessageField(.rendered(summary))
        try fields.encode(to: encoder)
    }

    public static func == (a: Alert, b: Alert) -> Bool { a.box === b.box || a.box.fields == b.box.fields }
    public func hash(into hasher: inout Hasher) { box.fields.hash(into: &hasher) }

    public var fingerprint: String { get { box.fields.fingerprint } set { fields.fingerprint = newValue } }
    /// The run that owns the alert: a check's name, or `meta:<check>` for the daemon's alerts
    /// about it. A successful run resolves its scope's alerts that it did not find again.
    public var scope: String { get { box.fields.scope } set { fields.scope = newValue } }
    public var check: String { get { box.fields.check } set { fields.check = newValue } }
    public var ruleID: String { get { box.fields.ruleID } set { fields.ruleID = newValue } }
    public var messageID: String { get { box.fields.messageID } set { fields.messageID = newValue } }
    /// Identifying labels: severity is not among them, so a severity change is the same alert.
    public var labels: [String: String] { get { box.fields.labels } set { fields.labels = newValue } }
    public var subject: Subject { get { box.fields.subject } set { fields.subject = newValue } }
    public var severity: Severity { get { box.fields.severity } set { fields.severity = newValue } }
    public var status: Status { get { box.fields.status } set { fields.status = newValue } }
    public var activeSince: Date { get { box.fields.activeSince } set { fields.activeSince = newValue } }
    public var firingSince: Date? { get { box.fields.firingSince } set { fields.firingSince = newValue } }
    public var resolvedAt: Date? { get { box.fields.resolvedAt } set { fields.resolvedAt = newValue } }
    public var lastNotifiedAt: Date? { get { box.fields.lastNotifiedAt } set { fields.lastNotifiedAt = newValue } }
    public var lastNotifiedSeverity: Severity? { get { box.fields.lastNotifiedSeverity } set { fields.lastNotifiedSeverity = newValue } }
    public var values: [String: Value] { get { box.fields.values } set { fields.values = newValue } }
    /// What the alert says, as kept: see ``Message``.
    public var message: Message { get { box.fields.summary.message } set { fields.summary = MessageField(newValue) } }
    /// The summary people read, in both languages; rendered on each read from a template.
    public var summary: LocalizedText {
        switch box.fields.summary.message {
        case .template(let template): Rule.render(template, subject: box.fields.subject, values: box.fields.values)
        case .rendered(let text): text
        }
    }

    /// The summary in one language: a receiver configured for one renders only that one.
    public func summary(in language: Language) -> String {
        switch box.fields.summary.message {
        case .template(let template): Rule.render(template, subject: box.fields.subject, values: box.fields.values, in: language)
        case .rendered(let text): text.text(in: language)
        }
    }

    /// What an alert says. An alert keeps the template of the finding it came from (``Finding/template``)
    /// and renders it when someone reads it: the tracker makes tens of thousands of alerts in a
    /// national first cycle, and most are written to the state and never read. Alerts recorded
    /// before templates were kept (the state's format 1, its JSON rows) carry the text as rendered then.
    public enum Message: Sendable, Hashable {
        case template(LocalizedText)
        case rendered(LocalizedText)
    }

    /// A message in the JSON of the state's older rows and of `ntmwatch alerts`: the text, which
    /// is all those rows had. ``Alert`` renders a template before it encodes.
    struct MessageField: Sendable, Hashable, Codable {
        var message: Message

        init(_ message: Message) { self.message = message }
        init(from decoder: any Decoder) throws { message = .rendered(try LocalizedText(from: decoder)) }

        func encode(to encoder: any Encoder) throws {
            guard case .rendered(let text) = message else { preconditionFailure("an alert encodes its rendered summary") }
            try text.encode(to: encoder)
        }
    }
    /// The active silences that mute it (their ids), when any.
    public var silencedBy: [String]? { get { box.fields.silencedBy } set { fields.silencedBy = newValue } }
    /// The firing alert whose inhibit rule mutes it (its fingerprint), when any.
    public var inhibitedBy: String? { get { box.fields.inhibitedBy } set { fields.inhibitedBy = newValue } }
    /// The document and section that set the rule (`002 §IV.9`), so that whoever gets the alert can
    /// read the duty in its own words: annotation `source`, journald `NTMWATCH_SOURCE`. Nil for a
    /// rule that cites none, and for alerts stored before it was recorded.
    public var source: String? { get { box.fields.source } set { fields.source = newValue } }

    public var isMuted: Bool { silencedBy != nil || inhibitedBy != nil }

    /// Labels as receivers see them: the identifying ones plus `severity`.
    public var notificationLabels: [String: String] {
        labels.merging(["severity": severity.rawValue]) { _, new in new }
    }

    /// One label as receivers see it (see ``notificationLabels``), without building the dictionary.
    public func notificationLabel(_ name: String) -> String? {
        name == "severity" ? severity.rawValue : box.fields.labels[name]
    }
}

/// One thing to tell the receivers about one alert.
public struct Notification: Sendable, Codable, Hashable {
    public enum Reason: String, Sendable, Codable {
        case firing, severityChanged = "severity_changed", repeated, resolved
    }

    /// Unique and stable: the same notification delivered twice (after a crash) has the same id,
    /// so a webhook file is replaced, not duplicated.
    public var id: String
    public var reason: Reason
    public var at: Date
    public var alert: Alert
}

/// Alertmanager's fingerprint: FNV-1a 64 over the sorted label names and values, each followed
/// by the byte 0xff, as 16 hex digits.
public enum Fingerprint {
    public static func of(_ labels: [String: String]) -> String {
        var hash = FNV()
        for name in labels.keys.sorted() { hash.mix(name, labels[name]!) }
        return hex(hash.value)
    }

    /// The 64 bits ``of(_:)`` spells, from the labels as (name, value) pairs in name order, each
    /// name once.
    public static func value(ofSorted labels: [(name: String, value: String)]) -> UInt64 {
        var hash = FNV()
        for (name, value) in labels { hash.mix(name, value) }
        return hash.value
    }

    /// FNV-1a over each label's name and value, each followed by 0xff.
    private struct FNV {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func mix(_ name: String, _ labelValue: String) {
            mix(name.utf8); mix(0xff)
            mix(labelValue.utf8); mix(0xff)
        }

        private mutating func mix(_ bytes: String.UTF8View) {
            // Over the string's own buffer where it has one (a native string): the view's
            // iterator decodes its way byte by byte, half the time of fingerprinting a national
            // run's findings (issue 21).
            let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                var value = self.value
                for byte in buffer { value = Self.step(value, byte) }
                self.value = value
            }
            if done == nil { for byte in bytes { mix(byte) } }
        }

        private mutating func mix(_ byte: UInt8) { value = Self.step(value, byte) }

        private static func step(_ value: UInt64, _ byte: UInt8) -> UInt64 { (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// The 64 bits `fingerprint` spells if it is what ``of(_:)`` makes (16 lower-case hex
    /// digits), else nil: ``hex(_:)`` of the value gives the same text back.
    static func value(of fingerprint: String) -> UInt64? {
        var fingerprint = fingerprint
        return fingerprint.withUTF8 { value(of: $0) }
    }

    static func value(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard bytes.count == 16 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// 16 lower-case hex digits; `String(format:)` costs a locale lookup per call.
    public static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 { buffer[index] = digits[Int((value >> UInt64(60 - 4 * index)) & 0xf)] }
            return 16
        }
    }
}
