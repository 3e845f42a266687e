import CheckKit
import Foundation

/// What the tracker keeps of an open alert between runs: who it is, its labels and its
/// lifecycle, and a hash of its content. The content itself (values, summary, subject, source)
/// arrives again with every finding and stays in the state file: keeping it decoded for each of
/// 70,000 open alerts was most of a national daemon's memory (about 3 KB an alert; issue 21).
///
/// An alert is one allocation: a box of its fields, followed by its own label values. The
/// tracker's table then holds a pointer per alert, not two hundred bytes in each of its
/// power-of-two buckets. What many alerts share (their check, rule and message) is one
/// ``Origin``; the fingerprint is its 64 bits (``AlertKey``); optional times are a number each;
/// the labels' names and the labeller's values are one ``Shape`` per kind of alert; what almost
/// no alert has is one optional ``Rare``. About 600 bytes an alert came down to about 260 with
/// the table's share, and then to about 180 (issue 21: the large province keeps 340,000 open
/// alerts; malloc's bytes in use a minute after its first cycle went from 147 to 100 MiB with
/// the shapes, and to 71 MiB with one allocation an alert).
public struct TrackedAlert: Sendable, Hashable {
    /// The check run, check, rule and message an alert comes from, shared by all its alerts: see
    /// ``OriginTable``.
    public final class Origin: Sendable, Hashable {
        public let scope: String, check: String, ruleID: String, messageID: String

        fileprivate init(scope: String, check: String, ruleID: String, messageID: String) {
            (self.scope, self.check, self.ruleID, self.messageID) = (scope, check, ruleID, messageID)
        }

        public static func == (a: Origin, b: Origin) -> Bool {
            a === b || (a.scope, a.check, a.ruleID, a.messageID) == (b.scope, b.check, b.ruleID, b.messageID)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(scope); hasher.combine(check); hasher.combine(ruleID); hasher.combine(messageID)
        }
    }

    /// What almost no alert has, kept apart: a fingerprint that is not 16 hex digits (tests,
    /// hand-edited states), a subject id that the `subject_id` label is not, and what mutes it.
    fileprivate final class Rare: Sendable, Hashable {
        let textKey: String?, unlabelledSubjectID: String?, silencedBy: [String]?, inhibitedBy: String?

        private init(textKey: String?, unlabelledSubjectID: String?, silencedBy: [String]?, inhibitedBy: String?) {
            (self.textKey, self.unlabelledSubjectID, self.silencedBy, self.inhibitedBy) = (textKey, unlabelledSubjectID, silencedBy, inhibitedBy)
        }

        /// Nil when there is nothing to keep, as in almost every alert.
        static func make(textKey: String?, unlabelledSubjectID: String?, silencedBy: [String]?, inhibitedBy: String?) -> Rare? {
            if textKey == nil, unlabelledSubjectID == nil, silencedBy == nil, inhibitedBy == nil { return nil }
            return Rare(textKey: textKey, unlabelledSubjectID: unlabelledSubjectID, silencedBy: silencedBy, inhibitedBy: inhibitedBy)
        }

        /// The same, its texts in storage of their own (``TrackedAlert/fresh(_:)``).
        func compacted() -> Rare {
            Rare(textKey: textKey.map(TrackedAlert.fresh), unlabelledSubjectID: unlabelledSubjectID.map(TrackedAlert.fresh),
                 silencedBy: silencedBy, inhibitedBy: inhibitedBy)
        }

        static func == (a: Rare, b: Rare) -> Bool {
            a === b || (a.textKey, a.unlabelledSubjectID, a.inhibitedBy) == (b.textKey, b.unlabelledSubjectID, b.inhibitedBy)
                && a.silencedBy == b.silencedBy
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(textKey); hasher.combine(unlabelledSubjectID); hasher.combine(silencedBy); hasher.combine(inhibitedBy)
        }
    }

    /// The box's header; the alert's own label values follow it in the same allocation
    /// (``Labels``). Nine words and 72 bytes: a test keeps it so.
    fileprivate struct Fields: Sendable, Hashable {
        /// The fingerprint's 64 bits (``AlertKey/hash(_:)``), or 0 where it is text (`rare`).
        var key: UInt64
        var origin: Origin
        var shape: Shape
        var rare: Rare?
        /// Seconds since the reference date; `firingSince` and `lastNotifiedAt` as bit patterns,
        /// `none` for nil (an optional `Date` takes 16 bytes here; NaN would not equal itself).
        var activeSince: Double
        var firingSince: UInt64
        var lastNotifiedAt: UInt64
        let content: Int
        var severity: Severity
        var status: Alert.Status
        var lastNotifiedSeverity: Severity?
        /// Whether the `rule` label is the rule's id, as the labeller makes it: then matchers read
        /// the field instead of searching the labels.
        let ruleLabelled: Bool
        /// How many bytes of own label values follow the header.
        let ownCount: UInt32
    }

    /// The fields, then the own label values: one allocation an alert (issue 21: the values in
    /// an array of their own were a second allocation of 64 to 96 bytes for each of 340,000
    /// alerts). Changed only through `fields`, which copies a shared box first and never
    /// changes how many values follow.
    ///
    /// `ManagedBuffer` is never `Sendable`; a box is, as `Alert`'s is: a shared one is never
    /// changed (`fields` copies it first), and its values are written only in ``make(_:own:)``.
    fileprivate final class Box: ManagedBuffer<Fields, UInt8> {
        static func make(_ fields: Fields, own: UnsafeBufferPointer<UInt8>) -> Box {
            precondition(own.count == Int(fields.ownCount))
            let box = unsafeDowncast(create(minimumCapacity: own.count) { _ in fields }, to: Box.self)
            if let start = own.baseAddress { box.withUnsafeMutablePointerToElements { $0.initialize(from: start, count: own.count) } }
            return box
        }

        func withOwn<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            try withUnsafeMutablePointers { fields, own in try body(UnsafeBufferPointer(start: own, count: Int(fields.pointee.ownCount))) }
        }
    }

    private nonisolated(unsafe) var box: Box

    private var fields: Fields {
        get { box.header }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = box.withOwn { Box.make(box.header, own: $0) } }
            let count = box.header.ownCount
            defer { precondition(box.header.ownCount == count, "the own values' length is the box's") }
            yield &box.header
        }
    }

    public static func == (a: TrackedAlert, b: TrackedAlert) -> Bool {
        a.box === b.box || a.box.header == b.box.header && a.labels == b.labels
    }

    public func hash(into hasher: inout Hasher) {
        box.header.hash(into: &hasher)
        hasher.combine(labels)
    }

    public var key: AlertKey { box.header.rare?.textKey.map(AlertKey.text) ?? .hash(box.header.key) }
    public var fingerprint: String { key.fingerprint }
    public var origin: Origin { box.header.origin }
    public var scope: String { box.header.origin.scope }
    public var check: String { box.header.origin.check }
    public var ruleID: String { box.header.origin.ruleID }
    public var messageID: String { box.header.origin.messageID }
    /// The identifying labels, by name.
    public var labels: Labels { Labels(shape: box.header.shape, own: .tail(box)) }
    public var subjectID: String { box.header.rare?.unlabelledSubjectID ?? labels["subject_id"] ?? "" }
    public internal(set) var severity: Severity { get { box.header.severity } set { fields.severity = newValue } }
    public internal(set) var status: Alert.Status { get { box.header.status } set { fields.status = newValue } }
    public internal(set) var activeSince: Date {
        get { Date(timeIntervalSinceReferenceDate: box.header.activeSince) }
        set { fields.activeSince = newValue.timeIntervalSinceReferenceDate }
    }
    public internal(set) var firingSince: Date? {
        get { Self.date(box.header.firingSince) } set { fields.firingSince = Self.seconds(newValue) }
    }
    public internal(set) var lastNotifiedAt: Date? {
        get { Self.date(box.header.lastNotifiedAt) } set { fields.lastNotifiedAt = Self.seconds(newValue) }
    }
    public internal(set) var lastNotifiedSeverity: Severity? {
        get { box.header.lastNotifiedSeverity } set { fields.lastNotifiedSeverity = newValue }
    }
    public internal(set) var silencedBy: [String]? {
        get { box.header.rare?.silencedBy }
        set { setRare(silencedBy: newValue, inhibitedBy: inhibitedBy) }
    }
    public internal(set) var inhibitedBy: String? {
        get { box.header.rare?.inhibitedBy }
        set { setRare(silencedBy: silencedBy, inhibitedBy: newValue) }
    }
    /// ``AlertContent/hash`` of the alert's content when it was last written.
    var content: Int { box.header.content }

    private mutating func setRare(silencedBy: [String]?, inhibitedBy: String?) {
        let rare = box.header.rare
        fields.rare = Rare.make(textKey: rare?.textKey, unlabelledSubjectID: rare?.unlabelledSubjectID, silencedBy: silencedBy,
                                inhibitedBy: inhibitedBy)
    }

    private static let none = UInt64.max
    private static func date(_ bits: UInt64) -> Date? {
        bits == none ? nil : Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits))
    }
    private static func seconds(_ date: Date?) -> UInt64 { date?.timeIntervalSinceReferenceDate.bitPattern ?? none }

    /// Every tracked alert is made here: from its packed form (``AlertCodec/tracked(_:origins:)``),
    /// from an alert, or as a compacted copy.
    init(key: AlertKey, origin: Origin, labels: Labels, subjectID: String, severity: Severity, status: Alert.Status,
         activeSince: Date, firingSince: Date?, lastNotifiedAt: Date?, lastNotifiedSeverity: Severity?, silencedBy: [String]?,
         inhibitedBy: String?, content: Int) {
        let (bits, textKey): (UInt64, String?) = switch key {
        case .hash(let value): (value, nil)
        case .text(let text): (0, text)
        }
        box = labels.withOwn { own in
            Box.make(Fields(
                key: bits, origin: origin, shape: labels.shape,
                rare: Rare.make(textKey: textKey, unlabelledSubjectID: Self.same(labels["subject_id"], subjectID) ? nil : subjectID,
                                silencedBy: silencedBy, inhibitedBy: inhibitedBy),
                activeSince: activeSince.timeIntervalSinceReferenceDate, firingSince: Self.seconds(firingSince),
                lastNotifiedAt: Self.seconds(lastNotifiedAt), content: content, severity: severity, status: status,
                lastNotifiedSeverity: lastNotifiedSeverity, ruleLabelled: Self.same(labels["rule"], origin.ruleID),
                ownCount: UInt32(own.count)),
                     own: own)
        }
    }

    /// Byte for byte, as labels compare: `==` would take a decomposed subject id for its composed
    /// label, and give the label's spelling back.
    private static func same(_ label: String?, _ text: String) -> Bool {
        label.map { $0.utf8.elementsEqual(text.utf8) } ?? false
    }

    /// An alert as the tracker keeps it; `origins` shares what its alerts have in common.
    public init(_ alert: Alert, origins: inout OriginTable) {
        self.init(alert, content: AlertContent.hash(subject: alert.subject, values: alert.values, message: alert.message,
                                                    source: alert.source), origins: &origins)
    }

    /// With the content's hash already known (the tracker has it from the finding).
    init(_ alert: Alert, content: Int, origins: inout OriginTable) {
        self.init(key: AlertKey(alert.fingerprint),
                  origin: origins(scope: alert.scope, check: alert.check, ruleID: alert.ruleID, messageID: alert.messageID),
                  labels: Labels(alert.labels, table: &origins), subjectID: alert.subject.id, severity: alert.severity, status: alert.status,
                  activeSince: alert.activeSince, firingSince: alert.firingSince, lastNotifiedAt: alert.lastNotifiedAt,
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
        case "rule" where box.header.ruleLabelled: ruleID
        default: labels[name]
        }
    }

    var muteText: String? {
        if let silencedBy { return silencedBy.joined(separator: ",") }
        return inhibitedBy.map { "inhibited:\($0)" }
    }

    /// The same alert with its origin and label shape from `origins` (one object per rule, whoever made it).
    func sharing(_ origins: inout OriginTable) -> TrackedAlert {
        let (origin, shape) = (origins(self.origin), origins.shape(box.header.shape))
        guard origin !== self.origin || shape !== box.header.shape else { return self }
        var copy = self
        copy.fields.origin = origin
        copy.fields.shape = shape
        return copy
    }

    /// An alert's fields out of its box, its own label values in a buffer that all the parked
    /// alerts share (see ``AlertTracker/compact(between:)``). It holds the few objects alerts
    /// share (origin, shape) and its rare texts, not its box.
    struct Parked: Sendable {
        fileprivate let fields: Fields
        fileprivate let own: Range<Int>
    }

    func parked(into own: inout [UInt8]) -> Parked {
        let start = own.count
        box.withOwn { own.append(contentsOf: $0) }
        return Parked(fields: box.header, own: start..<own.count)
    }

    /// A parked alert in an allocation of its own, of the size it needs, with its origin and
    /// shape from `origins`.
    init(unparking parked: Parked, own: UnsafeBufferPointer<UInt8>, origins: inout OriginTable) {
        var fields = parked.fields
        fields.origin = origins(fields.origin)
        fields.shape = origins.shape(fields.shape)
        fields.rare = fields.rare?.compacted()
        box = Box.make(fields, own: UnsafeBufferPointer(rebasing: own[parked.own]))
    }

    /// The object an alert's fields live in (tests: when it is freed).
    var boxObject: AnyObject { box }

    /// The size of what a box holds before the own values (tests: it stays small).
    static var fieldsSize: Int { MemoryLayout<Fields>.size }

    /// A text in storage of its own (`String(text)` would share the storage it is given).
    static func fresh(_ text: String) -> String {
        let count = text.utf8.count
        // Up to 15 bytes a String holds its text in itself.
        guard count > 15 else { return text }
        return String(unsafeUninitializedCapacity: count) { _ = $0.initialize(fromContentsOf: text.utf8); return count }
    }
}

/// An alert's fingerprint as the tracker keys it. ``Fingerprint/of(_:)`` makes 16 lower-case hex
/// digits: kept as the 64 bits they spell, a key needs no allocation (a 16-byte `String` does:
/// 64 bytes of heap per open alert). Any other text (tests, hand-edited states) stays text.
/// Keys order as their fingerprints do.
public enum AlertKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    case hash(UInt64)
    case text(String)

    public init(_ fingerprint: String) {
        if let value = Fingerprint.value(of: fingerprint) { self = .hash(value) } else { self = .text(fingerprint) }
    }

    public var fingerprint: String {
        switch self {
        case .hash(let value): Fingerprint.hex(value)
        case .text(let text): text
        }
    }

    public var description: String { fingerprint }

    public static func < (a: AlertKey, b: AlertKey) -> Bool {
        if case .hash(let x) = a, case .hash(let y) = b { return x < y }
        return a.fingerprint < b.fingerprint
    }
}

/// One ``TrackedAlert/Origin`` per distinct check run, check, rule and message, and one label
/// shape (``TrackedAlert/Labels``) per distinct set of names and shared values: tens of thousands
/// of alerts of one rule share them.
public struct OriginTable: Sendable {
    private struct Key: Hashable { let scope: String, check: String, ruleID: String, messageID: String }
    private var known: [Key: TrackedAlert.Origin] = [:]
    /// The last one given: consecutive alerts mostly come from one rule.
    private var last: TrackedAlert.Origin?

    public init() {}

    public mutating func callAsFunction(scope: String, check: String, ruleID: String, messageID: String) -> TrackedAlert.Origin {
        kept(Key(scope: scope, check: check, ruleID: ruleID, messageID: messageID)) {
            TrackedAlert.Origin(scope: scope, check: check, ruleID: ruleID, messageID: messageID)
        }
    }

    /// The known origin equal to `origin`, or `origin` itself, kept from now on: alerts read
    /// from the state share one already, and are not copied to share another.
    mutating func callAsFunction(_ origin: TrackedAlert.Origin) -> TrackedAlert.Origin {
        if last === origin { return origin }
        return kept(Key(scope: origin.scope, check: origin.check, ruleID: origin.ruleID, messageID: origin.messageID)) { origin }
    }

    /// A shape's key, hashed as bytes: it is looked up before a shape is made of it.
    private struct ShapeKey: Hashable {
        let bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }
    private var shapes: [ShapeKey: TrackedAlert.Shape] = [:]
    private var lastShape: TrackedAlert.Shape?
    /// Reused for each alert's labels: a first national cycle makes 340,000.
    private var scratch: (key: [UInt8], own: [UInt8]) = ([], [])

    /// Labels that `build` writes as a shape's key and the own values (see ``TrackedAlert/Labels``),
    /// with the known shape of that key.
    mutating func labels<E: Error>(_ build: (_ key: inout [UInt8], _ own: inout [UInt8]) throws(E) -> Void) throws(E) -> TrackedAlert.Labels {
        var (key, own) = scratch
        scratch = ([], [])
        key.removeAll(keepingCapacity: true)
        own.removeAll(keepingCapacity: true)
        defer { scratch = (key, own) }
        try build(&key, &own)
        let shape: TrackedAlert.Shape
        if let lastShape, lastShape.key == key {
            shape = lastShape
        } else if let known = shapes[ShapeKey(bytes: key)] {
            shape = known
            lastShape = known
        } else {
            shape = self.shape(TrackedAlert.Shape(key: TrackedAlert.Shape.exactCopy(key)))
        }
        // The scratch buffer itself: a tracked alert copies the values into its box, and by the
        // next call these labels are gone, so the buffer is reused, not copied.
        return TrackedAlert.Labels(shape: shape, own: .bytes(own))
    }

    /// The known shape equal to `shape`, or `shape` itself, kept from now on.
    mutating func shape(_ shape: TrackedAlert.Shape) -> TrackedAlert.Shape {
        if let lastShape, lastShape == shape { return lastShape }
        let kept = shapes[ShapeKey(bytes: shape.key)] ?? shape
        shapes[ShapeKey(bytes: shape.key)] = kept
        lastShape = kept
        return kept
    }

    private mutating func kept(_ key: Key, else make: () -> TrackedAlert.Origin) -> TrackedAlert.Origin {
        if let last, Key(scope: last.scope, check: last.check, ruleID: last.ruleID, messageID: last.messageID) == key { return last }
        let origin = known[key] ?? make()
        known[key] = origin
        last = origin
        return origin
    }
}

extension TrackedAlert {
    /// An alert's identifying labels, sorted by name, in two parts:
    /// - a ``Shape`` that alerts of one kind share: the names, and the values of the labeller's
    ///   own labels (``AlertCodec/wordLabels``: alertname, rule, check, instance, subject_kind,
    ///   severity), which are the same for every alert of a rule. ``OriginTable`` keeps one of each;
    /// - the alert's own values of the other labels (units, subjects, years), each as its UTF-8
    ///   length (LEB128) and bytes: in a tracked alert's box, after its fields.
    ///
    /// The large national province keeps 340,000 open alerts of nine labels. Names and values in
    /// one array took 224 bytes of heap an alert; the own values in an array of their own, about
    /// 64 to 96; in the box, about 30 (issue 21).
    /// Texts compare byte by byte, as the state file keeps them: two spellings of one text
    /// (composed and decomposed Vietnamese) stay two values.
    public struct Labels: Sendable, Hashable {
        let shape: Shape
        // A box is never changed once shared (see ``TrackedAlert/Box``).
        private nonisolated(unsafe) let own: Own

        /// Where the own values are: a tracked alert's follow its fields in its box.
        fileprivate enum Own {
            case bytes([UInt8])
            case tail(Box)
        }

        fileprivate init(shape: Shape, own: Own) {
            (self.shape, self.own) = (shape, own)
        }

        func withOwn<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            switch own {
            case .bytes(let bytes): try bytes.withUnsafeBufferPointer(body)
            case .tail(let box): try box.withOwn(body)
            }
        }

        /// Labels of an alert, with their shape from `table`.
        init(_ labels: [String: String], table: inout OriginTable) {
            self = table.labels { key, own in
                for (name, value) in labels.sorted(by: { $0.key < $1.key }) {
                    var (name, value) = (name, value)
                    name.withUTF8 { Shape.append($0, to: &key) }
                    value.withUTF8 { value in
                        if AlertCodec.wordLabels.contains(name) {
                            key.append(1)
                            Shape.append(value, to: &key)
                        } else {
                            key.append(0)
                            Shape.append(value, to: &own)
                        }
                    }
                }
            }
        }

        /// From a packed alert's labels (``AlertCodec`` formats 1 to 3): its dictionary's entries,
        /// each name and value with its length, in name order.
        init(packed: Slice<UnsafeBufferPointer<UInt8>>, table: inout OriginTable) {
            let bytes = UnsafeBufferPointer(rebasing: packed)
            self = table.labels { key, own in
                var index = 0
                while index < bytes.count {
                    let name = Shape.counted(bytes, at: &index), value = Shape.counted(bytes, at: &index)
                    Shape.append(UnsafeBufferPointer(rebasing: bytes[name]), to: &key)
                    if AlertCodec.wordLabels.contains(String(decoding: UnsafeBufferPointer(rebasing: bytes[name]), as: UTF8.self)) {
                        key.append(1)
                        Shape.append(UnsafeBufferPointer(rebasing: bytes[value]), to: &key)
                    } else {
                        key.append(0)
                        Shape.append(UnsafeBufferPointer(rebasing: bytes[value]), to: &own)
                    }
                }
            }
        }

        /// Where the own values are: a compacted copy's are elsewhere (tests).
        var storage: UnsafeRawPointer? { withOwn { UnsafeRawPointer($0.baseAddress) } }

        /// Every (name, value), in order, until `body` says stop.
        private func forEach(_ body: (_ name: String, _ value: () -> String) -> Bool) {
            var index = 0
            withOwn { own in
                for entry in shape.entries {
                    let range = entry.value == nil ? Shape.counted(own, at: &index) : 0..<0
                    let value = { entry.value ?? String(decoding: UnsafeBufferPointer(rebasing: own[range]), as: UTF8.self) }
                    if !body(entry.name, value) { return }
                }
            }
        }

        public subscript(name: String) -> String? {
            var name = name
            return name.withUTF8 { wanted in
                var found: String?
                forEach { name, value in
                    guard Shape.same(name, wanted) else { return true }
                    found = value()
                    return false
                }
                return found
            }
        }

        public var dictionary: [String: String] {
            var labels: [String: String] = [:]
            labels.reserveCapacity(shape.entries.count)
            forEach { name, value in
                labels[name] = value()
                return true
            }
            return labels
        }

        public static func == (a: Labels, b: Labels) -> Bool {
            a.shape == b.shape && a.withOwn { x in b.withOwn { x.elementsEqual($0) } }
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(shape)
            withOwn { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    /// What the labels of many alerts share (see ``Labels``). Its `key` is every name with its
    /// length, each followed by 1 and the shared value with its length, or by 0 where each alert
    /// has its own: equal shapes have equal keys, byte for byte.
    final class Shape: Sendable, Hashable {
        struct Entry: Sendable {
            let name: String
            /// Nil where the value is each alert's own.
            let value: String?
        }

        let key: [UInt8]
        let entries: [Entry]

        init(key: [UInt8]) {
            self.key = key
            var entries: [Entry] = []
            key.withUnsafeBufferPointer { key in
                var index = 0
                func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: key[range]), as: UTF8.self) }
                while index < key.count {
                    let name = text(Self.counted(key, at: &index))
                    index += 1
                    let value = key[index - 1] == 1 ? text(Self.counted(key, at: &index)) : nil
                    entries.append(Entry(name: name, value: value))
                }
            }
            self.entries = entries
        }

        static func == (a: Shape, b: Shape) -> Bool { a === b || a.key == b.key }

        func hash(into hasher: inout Hasher) { key.withUnsafeBytes { hasher.combine(bytes: $0) } }

        static func append(_ text: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
            AlertCodec.appendCount(text.count, to: &bytes)
            bytes.append(contentsOf: text)
        }

        /// The range of the text at `index` (after its LEB128 length), moving `index` past it.
        /// Unchecked: only for bytes this file wrote, or a state's packed labels whose lengths the
        /// codec's reader has already checked against the row (`skipString`).
        static func counted(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> Range<Int> {
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

        static func same(_ text: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            var text = text
            return text.withUTF8 { $0.count == bytes.count && $0.elementsEqual(bytes) }
        }

        /// A copy in an allocation of exactly its size: an array grown by appending holds up to twice it.
        static func exactCopy(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
            guard !bytes.isEmpty else { return [] }
            return [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in count = buffer.initialize(fromContentsOf: bytes) }
        }

        static func exactCopy(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBufferPointer { exactCopy($0) } }
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
}
