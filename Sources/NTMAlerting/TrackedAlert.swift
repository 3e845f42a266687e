import CheckKit
import Foundation

/// What the tracker keeps of an open alert between runs: who it is, its labels and its
/// lifecycle, and a hash of its content. The content itself (values, summary, subject, source)
/// arrives again with every finding and stays in the state file: keeping it decoded for each of
/// 70,000 open alerts was most of a national daemon's memory (about 3 KB an alert; issue 21).
///
/// Its fields live in one box, as an ``Alert``'s do: the tracker's table then holds a pointer per
/// alert, not two hundred bytes in each of its power-of-two buckets.
public struct TrackedAlert: Sendable, Hashable {
    private struct Fields: Sendable, Hashable {
        let fingerprint: String
        let scope: String
        let check: String
        let ruleID: String
        let messageID: String
        let labels: Labels
        let subjectID: String
        var severity: Severity
        var status: Alert.Status
        var activeSince: Date
        var firingSince: Date?
        var lastNotifiedAt: Date?
        var lastNotifiedSeverity: Severity?
        var silencedBy: [String]?
        var inhibitedBy: String?
        let content: Int
        /// Whether the `rule` label is the rule's id, as the labeller makes it: then matchers read
        /// the field instead of searching the labels.
        let ruleLabelled: Bool
    }

    // Changed only through `fields`' setter, which copies a shared box first.
    private final class Box: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private var fields: Fields {
        get { box.fields }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            yield &box.fields
        }
    }

    public static func == (a: TrackedAlert, b: TrackedAlert) -> Bool { a.box === b.box || a.box.fields == b.box.fields }
    public func hash(into hasher: inout Hasher) { box.fields.hash(into: &hasher) }

    public var fingerprint: String { box.fields.fingerprint }
    public var scope: String { box.fields.scope }
    public var check: String { box.fields.check }
    public var ruleID: String { box.fields.ruleID }
    public var messageID: String { box.fields.messageID }
    /// The identifying labels, by name.
    public var labels: Labels { box.fields.labels }
    public var subjectID: String { box.fields.subjectID }
    public internal(set) var severity: Severity { get { box.fields.severity } set { fields.severity = newValue } }
    public internal(set) var status: Alert.Status { get { box.fields.status } set { fields.status = newValue } }
    public internal(set) var activeSince: Date { get { box.fields.activeSince } set { fields.activeSince = newValue } }
    public internal(set) var firingSince: Date? { get { box.fields.firingSince } set { fields.firingSince = newValue } }
    public internal(set) var lastNotifiedAt: Date? { get { box.fields.lastNotifiedAt } set { fields.lastNotifiedAt = newValue } }
    public internal(set) var lastNotifiedSeverity: Severity? {
        get { box.fields.lastNotifiedSeverity } set { fields.lastNotifiedSeverity = newValue }
    }
    public internal(set) var silencedBy: [String]? { get { box.fields.silencedBy } set { fields.silencedBy = newValue } }
    public internal(set) var inhibitedBy: String? { get { box.fields.inhibitedBy } set { fields.inhibitedBy = newValue } }
    /// ``AlertContent/hash`` of the alert's content when it was last written.
    var content: Int { box.fields.content }

    /// `interned` gives each text the storage of an equal one already kept, when it has one: a
    /// state loaded from the file would otherwise hold one copy of a rule's id and message id per
    /// alert.
    public init(_ alert: Alert, interned: (String) -> String = { $0 }) {
        self.init(alert, content: AlertContent.hash(subject: alert.subject, values: alert.values, message: alert.message,
                                                    source: alert.source), interned: interned)
    }

    /// Every tracked alert is made here: from its packed form (``AlertCodec/tracked(_:interned:)``),
    /// from an alert, or as a compacted copy.
    init(fingerprint: String, scope: String, check: String, ruleID: String, messageID: String, labels: Labels, subjectID: String,
         severity: Severity, status: Alert.Status, activeSince: Date, firingSince: Date?, lastNotifiedAt: Date?,
         lastNotifiedSeverity: Severity?, silencedBy: [String]?, inhibitedBy: String?, content: Int) {
        box = Box(Fields(
            fingerprint: fingerprint, scope: scope, check: check, ruleID: ruleID, messageID: messageID, labels: labels,
            subjectID: subjectID, severity: severity, status: status, activeSince: activeSince, firingSince: firingSince,
            lastNotifiedAt: lastNotifiedAt, lastNotifiedSeverity: lastNotifiedSeverity, silencedBy: silencedBy,
            inhibitedBy: inhibitedBy, content: content, ruleLabelled: labels["rule"] == ruleID))
    }

    /// With the content's hash already known (the tracker has it from the finding).
    init(_ alert: Alert, content: Int, interned: (String) -> String = { $0 }) {
        self.init(fingerprint: alert.fingerprint, scope: interned(alert.scope), check: interned(alert.check),
                  ruleID: interned(alert.ruleID), messageID: interned(alert.messageID), labels: Labels(alert.labels),
                  subjectID: alert.subject.id, severity: alert.severity, status: alert.status, activeSince: alert.activeSince,
                  firingSince: alert.firingSince, lastNotifiedAt: alert.lastNotifiedAt,
                  lastNotifiedSeverity: alert.lastNotifiedSeverity, silencedBy: alert.silencedBy, inhibitedBy: alert.inhibitedBy,
                  content: content)
    }

    /// The alert whole: this lifecycle over `stored`, the alert as last written (from the state
    /// file). Without it (a state file that lost the row), the content is empty but the alert still
    /// resolves and its history stays whole.
    func alert(over stored: Alert?) -> Alert {
        guard var alert = stored else {
            return Alert(fingerprint: fingerprint, scope: scope, check: check, ruleID: ruleID, messageID: messageID, labels: labels.dictionary,
                         subject: Subject(kind: "", id: subjectID, name: subjectID), severity: severity, status: status,
                         activeSince: activeSince, firingSince: firingSince, lastNotifiedAt: lastNotifiedAt,
                         lastNotifiedSeverity: lastNotifiedSeverity, values: [:], message: .rendered(LocalizedText(vi: "", en: "")),
                         silencedBy: silencedBy, inhibitedBy: inhibitedBy)
        }
        alert.severity = severity
        alert.status = status
        alert.activeSince = activeSince
        alert.firingSince = firingSince
        alert.resolvedAt = nil
        alert.lastNotifiedAt = lastNotifiedAt
        alert.lastNotifiedSeverity = lastNotifiedSeverity
        alert.silencedBy = silencedBy
        alert.inhibitedBy = inhibitedBy
        return alert
    }

    /// One label as receivers see it (the identifying ones plus `severity`). `rule` is read from
    /// the rule's id when it is that (as the labeller makes it), not searched for: an inhibit rule
    /// asks every firing alert's `rule` after every run.
    public func notificationLabel(_ name: String) -> String? {
        switch name {
        case "severity": severity.rawValue
        case "rule" where box.fields.ruleLabelled: ruleID
        default: labels[name]
        }
    }

    var muteText: String? {
        if let silencedBy { return silencedBy.joined(separator: ",") }
        return inhibitedBy.map { "inhibited:\($0)" }
    }

    /// The same alert in allocations of its own, each of the size it needs. Texts shared by many
    /// alerts (rule, check and message ids) stay shared. See ``AlertTracker/compacted()``.
    func compacted() -> TrackedAlert {
        TrackedAlert(fingerprint: Self.fresh(fingerprint), scope: scope, check: check, ruleID: ruleID, messageID: messageID,
                     labels: labels.compacted(), subjectID: Self.fresh(subjectID), severity: severity, status: status,
                     activeSince: activeSince, firingSince: firingSince, lastNotifiedAt: lastNotifiedAt,
                     lastNotifiedSeverity: lastNotifiedSeverity, silencedBy: silencedBy, inhibitedBy: inhibitedBy, content: content)
    }

    /// A text in storage of its own (`String(text)` would share the storage it is given).
    static func fresh(_ text: String) -> String {
        let count = text.utf8.count
        // Up to 15 bytes a String holds its text in itself.
        guard count > 15 else { return text }
        return String(unsafeUninitializedCapacity: count) { _ = $0.initialize(fromContentsOf: text.utf8); return count }
    }
}

extension TrackedAlert {
    /// Labels in one allocation of bytes, sorted by name: each name and value as its UTF-8
    /// length (LEB128) and bytes. A dictionary of nine labels took about six hundred bytes in its
    /// table alone, before the texts.
    public struct Labels: Sendable, Hashable {
        private let bytes: [UInt8]

        init(_ labels: [String: String]) {
            var bytes: [UInt8] = []
            func append(_ text: String) {
                var length = text.utf8.count
                repeat {
                    bytes.append(UInt8(length & 0x7f) | (length > 0x7f ? 0x80 : 0))
                    length >>= 7
                } while length > 0
                bytes.append(contentsOf: text.utf8)
            }
            for (name, value) in labels.sorted(by: { $0.key < $1.key }) {
                append(name)
                append(value)
            }
            self.bytes = bytes
        }

        private init(bytes: [UInt8]) { self.bytes = bytes }

        /// From a packed alert's labels (``AlertCodec``): the dictionary's entries, without its
        /// count, are these bytes already.
        init(packed: Slice<UnsafeBufferPointer<UInt8>>) { bytes = Array(packed) }

        /// The same labels in an allocation of exactly their size: appending leaves up to twice it.
        func compacted() -> Labels {
            Labels(bytes: [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                count = buffer.initialize(fromContentsOf: bytes)
            })
        }

        /// Every (name, value) as byte ranges, in order, until `body` says stop.
        private func forEach(_ body: (Range<Int>, Range<Int>) -> Bool) {
            var index = 0
            func next() -> Range<Int> {
                var length = 0, shift = 0
                while true {
                    let byte = bytes[index]
                    index += 1
                    length |= Int(byte & 0x7f) << shift
                    shift += 7
                    if byte & 0x80 == 0 { break }
                }
                defer { index += length }
                return index..<index + length
            }
            while index < bytes.count {
                let name = next(), value = next()
                if !body(name, value) { return }
            }
        }

        public subscript(name: String) -> String? {
            var name = name
            return name.withUTF8 { wanted in
                var found: String?
                forEach { nameRange, valueRange in
                    guard nameRange.count == wanted.count, bytes[nameRange].elementsEqual(wanted) else { return true }
                    found = String(decoding: bytes[valueRange], as: UTF8.self)
                    return false
                }
                return found
            }
        }

        public var dictionary: [String: String] {
            var labels: [String: String] = [:]
            forEach { name, value in
                labels[String(decoding: bytes[name], as: UTF8.self)] = String(decoding: bytes[value], as: UTF8.self)
                return true
            }
            return labels
        }
    }
}

/// Equal texts kept once: see ``TrackedAlert/init(_:interned:)``.
public struct TextInterner {
    private var kept = Set<String>()

    public init() {}

    public mutating func callAsFunction(_ text: String) -> String {
        // Short texts live inside the String value itself: nothing to share.
        guard text.utf8.count > 15 else { return text }
        if let known = kept.firstIndex(of: text) { return kept[known] }
        kept.insert(text)
        return text
    }
}

/// An alert's content, as the tracker compares it with a new finding.
enum AlertContent {
    /// Equal content, equal hash; a different content collides with another one's hash once in
    /// 2^64 (the alert then keeps its old values until they change again). Seeded per process:
    /// never stored.
    ///
    /// The hash is taken over the content's bytes as ``AlertCodec`` packs them (lengths before
    /// texts, kinds before values, values in key order), so that an alert loaded from the state
    /// is hashed from its packed bytes without being decoded (``AlertCodec/tracked(_:interned:)``).
    /// String hashing would also normalize every Vietnamese text first, and dictionary hashing use
    /// a hasher per entry: both were a tenth of a steady national cycle. Two spellings of one
    /// text (composed and decomposed) hash apart: the alert is written again once, never lost.
    static func hash(subject: Subject, values: [String: Value], message: Alert.Message, source: String?) -> Int {
        var writer = AlertCodec.Writer()
        writer.bytes.reserveCapacity(512)
        writer.content(subject: subject, values: values, message: message, source: source)
        var hasher = Hasher()
        writer.bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    static func hash(_ labeled: LabeledFinding) -> Int {
        hash(subject: labeled.finding.subject, values: labeled.finding.values, message: .template(labeled.finding.template),
             source: labeled.source)
    }
}
