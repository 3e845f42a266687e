import CheckKit
import Foundation

/// The alert state's own compact form of an ``Alert``: length-prefixed fields in a fixed order,
/// behind a format byte. JSONDecoder took about 55 µs per alert, so a national state of 70,000
/// open alerts spent four seconds of every `ntmwatchd --once` (and of every start) decoding; this
/// form is read in a few microseconds. Dictionaries are written in key order, so one alert always
/// packs to the same bytes against one table. JSON stays the form of every receiver and export.
///
/// A message template is the same for every alert of a rule, and was a third of each packed alert
/// and of each notification: from format 3 it is kept once, in a ``MessageTable`` the state file
/// stores beside the alerts, and packed alerts refer to it by number. From format 4 so are the
/// words a whole state repeats: the scope, check, rule and message ids, severity and status,
/// every label name and the values of ``wordLabels``. They were 230 of a packed alert's 690
/// bytes at national scale (issue 21). What an alert's content hash covers (subject, values,
/// message, source) stays written out, so that hash is still taken over the packed bytes.
public enum AlertCodec {
    /// 4: words by number in the ``MessageTable``. 3 (still read): a template may be a number in
    /// the table. 2 (still read): the message is a template or a text (``Alert/Message``), behind
    /// a byte. 1 (still read): the rendered summary alone.
    static let format: UInt8 = 4

    /// Labels whose values come from the rule, the check and the configuration (the labeller's),
    /// so a handful of values across a whole state: kept as words. Other labels' values (units,
    /// subjects, years) are many and are written out.
    static let wordLabels: Set<String> = ["alertname", "rule", "check", "instance", "subject_kind", "severity"]

    public struct Corrupt: Error, CustomStringConvertible {
        public let reason: String
        /// The number of a template or word the table given to the reader does not have: rows
        /// written by another process after the table was read. Read the table again and retry.
        public let missingEntry: Int?

        init(reason: String, missingEntry: Int? = nil) {
            self.reason = reason
            self.missingEntry = missingEntry
        }

        public var description: String { "an alert in the state file cannot be read: \(reason)" }
    }

    /// `messages` gets the alert's template and words when it does not have them yet.
    public static func pack(_ alert: Alert, messages: inout MessageTable) -> [UInt8] {
        var out = Writer()
        out.bytes.reserveCapacity(512)
        out.byte(format)
        out.alert(alert, messages: &messages)
        return out.bytes
    }

    /// A notification (the ledger's rows): its id, reason and instant, then its alert.
    public static func pack(_ notification: Notification, messages: inout MessageTable) -> [UInt8] {
        pack(notification, packedAlert: pack(notification.alert, messages: &messages))
    }

    /// A notification whose alert is packed already (`packedAlert` is `pack(notification.alert)`):
    /// the state writes an alert and its notification together, and packing every alert twice
    /// was a twentieth of a national first cycle.
    public static func pack(_ notification: Notification, packedAlert: [UInt8]) -> [UInt8] {
        // Bytes of another format (a row read back) would be written under this one's byte.
        precondition(packedAlert.first == format, "packedAlert must come from pack(_:)")
        var out = Writer()
        out.bytes.reserveCapacity(packedAlert.count + 64)
        out.byte(format)
        out.string(notification.id); out.string(notification.reason.rawValue); out.date(notification.at)
        out.bytes.append(contentsOf: packedAlert.dropFirst())
        return out.bytes
    }

    // The entry points take arrays and buffers, not any collection: a public generic runs
    // unspecialized from another module, and copied every row's bytes into a new array.

    public static func unpack(_ bytes: [UInt8], messages: MessageTable) throws(Corrupt) -> Alert {
        try bytes.withUnsafeBufferPointer { buffer throws(Corrupt) in
            try reading(buffer, messages) { input throws(Corrupt) in try input.alert() }
        }
    }

    /// What the tracker keeps of a packed alert, without decoding the rest (see ``Reader/tracked(origins:)``).
    /// `bytes` are read where they are (a row's blob, as SQLite holds it).
    public static func tracked(_ bytes: UnsafeBufferPointer<UInt8>, origins: inout OriginTable,
                               messages: MessageTable) throws(Corrupt) -> TrackedAlert {
        try reading(bytes, messages) { input throws(Corrupt) in try input.tracked(origins: &origins) }
    }

    public static func unpackNotification(_ bytes: [UInt8], messages: MessageTable) throws(Corrupt) -> Notification {
        try bytes.withUnsafeBufferPointer { buffer throws(Corrupt) in try reading(buffer, messages) { input throws(Corrupt) in
            let id = try input.string()
            guard let reason = Notification.Reason(rawValue: try input.string()) else { throw Corrupt(reason: "unknown reason") }
            let at = try input.date()
            return Notification(id: id, reason: reason, at: at, alert: try input.alert())
        } }
    }

    /// LEB128: counts and lengths are small.
    static func appendCount(_ value: Int, to bytes: inout [UInt8]) {
        var rest = UInt64(value)
        repeat {
            let low = UInt8(rest & 0x7f)
            rest >>= 7
            bytes.append(rest == 0 ? low : low | 0x80)
        } while rest != 0
    }

    static func reading<T>(_ buffer: UnsafeBufferPointer<UInt8>, _ messages: MessageTable,
                           _ read: (inout Reader) throws(Corrupt) -> T) throws(Corrupt) -> T {
        var input = Reader(buffer: buffer, messages: messages)
        input.format = try input.byte()
        guard (1...format).contains(input.format) else { throw Corrupt(reason: "unknown format \(input.format)") }
        let value = try read(&input)
        guard input.isAtEnd else { throw Corrupt(reason: "bytes after the alert") }
        return value
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func alert(_ alert: Alert, messages: inout MessageTable) {
            string(alert.fingerprint)
            word(alert.scope, &messages); word(alert.check, &messages)
            word(alert.ruleID, &messages); word(alert.messageID, &messages)
            labels(alert.labels, &messages)
            subject(alert.subject)
            word(alert.severity.rawValue, &messages); word(alert.status.rawValue, &messages)
            date(alert.activeSince)
            optional(alert.firingSince) { $0.date($1) }
            optional(alert.resolvedAt) { $0.date($1) }
            optional(alert.lastNotifiedAt) { $0.date($1) }
            if let severity = alert.lastNotifiedSeverity {
                byte(1)
                word(severity.rawValue, &messages)
            } else {
                byte(0)
            }
            values(alert.values)
            switch alert.message {
            case .template(let template): byte(2); count(messages.number(of: template))
            case .rendered: message(alert.message)
            }
            optional(alert.silencedBy) { writer, ids in
                writer.count(ids.count)
                ids.forEach { writer.string($0) }
            }
            optional(alert.inhibitedBy) { $0.string($1) }
            optional(alert.source) { $0.string($1) }
        }

        /// What ``AlertContent`` hashes: the subject, then the values and the message (a template
        /// written out, not by number), then the source. ``Reader/tracked(origins:)`` hashes the
        /// same bytes from a packed alert, a numbered template's as its table has them.
        mutating func content(subject: Subject, values: [String: Value], message: Alert.Message, source: String?) {
            self.subject(subject)
            self.values(values)
            self.message(message)
            optional(source) { $0.string($1) }
        }

        mutating func subject(_ subject: Subject) {
            string(subject.kind); string(subject.id); string(subject.name)
            optional(subject.unitID) { $0.string($1) }
        }

        mutating func values(_ values: [String: Value]) {
            count(values.count)
            if values.count == 1, let (key, only) = values.first {
                string(key)
                value(only)
            } else {
                // The pairs sorted, not the keys: looking each key up again hashed it again.
                for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                    string(key)
                    self.value(value)
                }
            }
        }

        /// A message written out: a text (0) or a template (1).
        mutating func message(_ message: Alert.Message) {
            switch message {
            case .rendered(let text): byte(0); string(text.vi); string(text.en)
            case .template(let template): byte(1); string(template.vi); string(template.en)
            }
        }

        mutating func byte(_ value: UInt8) { bytes.append(value) }

        mutating func count(_ value: Int) { AlertCodec.appendCount(value, to: &bytes) }

        mutating func string(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in
                count(utf8.count)
                bytes.append(contentsOf: utf8)
            }
        }

        mutating func fixed(_ value: UInt64) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func date(_ date: Date) { fixed(date.timeIntervalSinceReferenceDate.bitPattern) }

        mutating func optional<T>(_ value: T?, _ write: (inout Writer, T) -> Void) {
            guard let value else { byte(0); return }
            byte(1)
            write(&self, value)
        }

        mutating func word(_ text: String, _ messages: inout MessageTable) { count(messages.number(ofWord: text)) }

        /// Names as words; a value as a word (its number, doubled, plus one) or written out (its
        /// length, doubled, then its bytes), so that a reader needs no list of ``wordLabels``.
        mutating func labels(_ labels: [String: String], _ messages: inout MessageTable) {
            count(labels.count)
            for (name, value) in labels.sorted(by: { $0.key < $1.key }) {
                word(name, &messages)
                if wordLabels.contains(name) {
                    count(messages.number(ofWord: value) << 1 | 1)
                } else {
                    var value = value
                    value.withUTF8 { utf8 in
                        count(utf8.count << 1)
                        bytes.append(contentsOf: utf8)
                    }
                }
            }
        }

        mutating func value(_ value: Value) {
            switch value {
            case .text(let text): byte(0); string(text)
            case .integer(let number): byte(1); fixed(UInt64(bitPattern: number))
            case .number(let number): byte(2); fixed(number.bitPattern)
            case .bool(let flag): byte(3); byte(flag ? 1 : 0)
            case .date(let day): byte(4); fixed(UInt64(bitPattern: Int64(day.dayNumber)))
            case .instant(let instant): byte(5); date(instant)
            case .amountVND(let amount): byte(6); fixed(UInt64(bitPattern: amount))
            case .percent(let rate): byte(7); fixed(rate.bitPattern)
            case .list(let items): byte(8); count(items.count); items.forEach { string($0) }
            case .localized(let text): byte(9); string(text.vi); string(text.en)
            }
        }
    }

    struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        let messages: MessageTable
        var offset = 0
        var format: UInt8 = 0

        init(buffer: UnsafeBufferPointer<UInt8>, messages: MessageTable) {
            self.buffer = buffer
            self.messages = messages
        }

        mutating func alert() throws(Corrupt) -> Alert {
            let fingerprint = try string(), scope = try name(), check = try name()
            let ruleID = try name(), messageID = try name()
            let labels = try labels()
            let subject = Subject(kind: try string(), id: try string(), name: try string(),
                                  unitID: try optional { reader throws(Corrupt) in try reader.string() })
            let severity = try severity()
            let status = try status()
            let activeSince = try date()
            let firingSince = try optional { reader throws(Corrupt) in try reader.date() }
            let resolvedAt = try optional { reader throws(Corrupt) in try reader.date() }
            let lastNotifiedAt = try optional { reader throws(Corrupt) in try reader.date() }
            let lastNotifiedSeverity = try optional { reader throws(Corrupt) in try reader.severity() }
            var values: [String: Value] = [:]
            let valueCount = try count()
            values.reserveCapacity(valueCount)
            for _ in 0..<valueCount { values[try string()] = try value() }
            let message: Alert.Message
            switch format == 1 ? 0 : try byte() {
            case 0: message = .rendered(LocalizedText(vi: try string(), en: try string()))
            case 1: message = .template(LocalizedText(vi: try string(), en: try string()))
            case 2 where format >= 3: message = .template(try messages.template(try number()))
            case let kind: throw Corrupt(reason: "unknown message kind \(kind)")
            }
            var alert = Alert(
                fingerprint: fingerprint, scope: scope, check: check, ruleID: ruleID, messageID: messageID, labels: labels,
                subject: subject, severity: severity, status: status, activeSince: activeSince, firingSince: firingSince,
                resolvedAt: resolvedAt, lastNotifiedAt: lastNotifiedAt, lastNotifiedSeverity: lastNotifiedSeverity,
                values: values, message: message)
            alert.silencedBy = try optional { reader throws(Corrupt) in
                try (0..<reader.count()).map { _ throws(Corrupt) in try reader.string() }
            }
            alert.inhibitedBy = try optional { reader throws(Corrupt) in try reader.string() }
            alert.source = try optional { reader throws(Corrupt) in try reader.string() }
            return alert
        }

        var isAtEnd: Bool { offset == buffer.count }

        mutating func byte() throws(Corrupt) -> UInt8 {
            guard offset < buffer.count else { throw Corrupt(reason: "cut short") }
            defer { offset += 1 }
            return buffer[offset]
        }

        mutating func count() throws(Corrupt) -> Int {
            let value = try leb128()
            // Every counted item takes at least a byte: a larger count is damage, not a big alert.
            guard value <= UInt64(buffer.count - offset) else { throw Corrupt(reason: "a length past the end") }
            return Int(value)
        }

        /// A template's or word's number in the ``MessageTable``.
        mutating func number() throws(Corrupt) -> Int {
            let value = try leb128()
            guard value <= UInt64(Int32.max) else { throw Corrupt(reason: "a table number too large") }
            return Int(value)
        }

        mutating func leb128() throws(Corrupt) -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 63 else { throw Corrupt(reason: "a length too long") }
                value |= UInt64(next & 0x7f) << shift
                if next & 0x80 == 0 { return value }
                shift += 7
            }
        }

        /// What the tracker keeps of the alert (``TrackedAlert``), read without making the alert:
        /// the labels are split into their shape and own values (``TrackedAlert/Labels``) from the
        /// packed dictionary up to format 3 and from the words and written values from format 4;
        /// the content's hash is taken over
        /// the packed bytes of the subject, values, message and source, as ``Writer/content``
        /// writes them for a finding. A state of 70,000 open alerts was decoded whole at every start.
        mutating func tracked(origins: inout OriginTable) throws(Corrupt) -> TrackedAlert {
            let key = try key()
            let origin = origins(scope: try name(), check: try name(), ruleID: try name(), messageID: try name())
            let labels: TrackedAlert.Labels
            if format >= 4 {
                labels = try trackedLabels(origins: &origins)
            } else {
                let entries = try count()
                let labelsStart = offset
                for _ in 0..<entries * 2 { try skipString() }
                labels = TrackedAlert.Labels(packed: buffer[labelsStart..<offset], table: &origins)
            }
            let subjectStart = offset
            try skipString()
            let subjectID = try string()
            try skipString()
            _ = try optional { reader throws(Corrupt) in try reader.skipString() }
            let subjectEnd = offset
            let severity = try severity()
            let status = try status()
            let activeSince = try date()
            let firingSince = try optional { reader throws(Corrupt) in try reader.date() }
            _ = try optional { reader throws(Corrupt) in try reader.date() }
            let lastNotifiedAt = try optional { reader throws(Corrupt) in try reader.date() }
            let lastNotifiedSeverity = try optional { reader throws(Corrupt) in try reader.severity() }
            let valuesStart = offset
            for _ in 0..<(try count()) {
                try skipString()
                try skipValue()
            }
            let messageStart = offset
            // Format 1 has no message kind: its content never equals a finding's, and the alert is
            // written again (in the current format) the first time its check finds it.
            var numbered: MessageTable.Entry?
            switch format == 1 ? 0 : try byte() {
            case 0, 1: try skipString(); try skipString()
            case 2 where format >= 3: numbered = try messages.entry(try number())
            case let kind: throw Corrupt(reason: "unknown message kind \(kind)")
            }
            let messageEnd = offset
            let silencedBy = try optional { reader throws(Corrupt) in
                try (0..<reader.count()).map { _ throws(Corrupt) in try reader.string() }
            }
            let inhibitedBy = try optional { reader throws(Corrupt) in try reader.string() }
            let sourceStart = offset
            _ = try optional { reader throws(Corrupt) in try reader.skipString() }
            var hasher = Hasher()
            var content = [UInt8]()
            content.reserveCapacity(subjectEnd - subjectStart + messageEnd - valuesStart + (numbered?.content.count ?? 0)
                                    + offset - sourceStart)
            content.append(contentsOf: buffer[subjectStart..<subjectEnd])
            if let numbered {
                content.append(contentsOf: buffer[valuesStart..<messageStart])
                content.append(contentsOf: numbered.content)
            } else {
                content.append(contentsOf: buffer[valuesStart..<messageEnd])
            }
            content.append(contentsOf: buffer[sourceStart..<offset])
            content.withUnsafeBytes { hasher.combine(bytes: $0) }
            return TrackedAlert(
                key: key, origin: origin, labels: labels, subjectID: subjectID, severity: severity, status: status,
                activeSince: activeSince, firingSince: firingSince, lastNotifiedAt: lastNotifiedAt,
                lastNotifiedSeverity: lastNotifiedSeverity, silencedBy: silencedBy, inhibitedBy: inhibitedBy,
                content: hasher.finalize())
        }

        /// A fingerprint as ``AlertKey``: no `String` made for the usual 16 hex digits.
        mutating func key() throws(Corrupt) -> AlertKey {
            let start = offset
            try skipString()
            if offset - start == 17, let value = Fingerprint.value(of: UnsafeBufferPointer(rebasing: buffer[start + 1..<offset])) {
                return .hash(value)
            }
            offset = start
            return .text(try string())
        }

        mutating func skipString() throws(Corrupt) {
            let length = try count()
            guard length <= buffer.count - offset else { throw Corrupt(reason: "a text past the end") }
            offset += length
        }

        mutating func skipValue() throws(Corrupt) {
            switch try byte() {
            case 0: try skipString()
            case 1, 2, 4, 5, 6, 7: _ = try fixed()
            case 3: _ = try byte()
            case 8: for _ in 0..<(try count()) { try skipString() }
            case 9: try skipString(); try skipString()
            case let kind: throw Corrupt(reason: "unknown value kind \(kind)")
            }
        }

        mutating func string() throws(Corrupt) -> String {
            let length = try count()
            guard length <= buffer.count - offset else { throw Corrupt(reason: "a text past the end") }
            defer { offset += length }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[offset..<offset + length]), as: UTF8.self)
        }

        mutating func fixed() throws(Corrupt) -> UInt64 {
            guard buffer.count - offset >= 8 else { throw Corrupt(reason: "cut short") }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(buffer[offset + index]) << (8 * UInt64(index)) }
            offset += 8
            return value
        }

        mutating func date() throws(Corrupt) -> Date { Date(timeIntervalSinceReferenceDate: Double(bitPattern: try fixed())) }

        mutating func severity() throws(Corrupt) -> Severity {
            guard let severity = Severity(rawValue: try name()) else { throw Corrupt(reason: "unknown severity") }
            return severity
        }

        mutating func status() throws(Corrupt) -> Alert.Status {
            guard let status = Alert.Status(rawValue: try name()) else { throw Corrupt(reason: "unknown status") }
            return status
        }

        /// A field written as a word from format 4, and out before.
        mutating func name() throws(Corrupt) -> String {
            format >= 4 ? try messages.word(try number()).text : try string()
        }

        mutating func labels() throws(Corrupt) -> [String: String] {
            guard format >= 4 else { return try dictionary() }
            let entries = try count()
            var labels: [String: String] = [:]
            labels.reserveCapacity(entries)
            for _ in 0..<entries {
                let name = try messages.word(try number()).text
                labels[name] = switch try labelValue() {
                case .word(let word): word.text
                case .written(let range): String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
                }
            }
            return labels
        }

        /// Format 4's labels as ``TrackedAlert/Labels`` keeps them: a word's bytes as its table
        /// entry has them, with its length; which values the alerts share goes by the name, as
        /// for labels made from an alert.
        mutating func trackedLabels(origins: inout OriginTable) throws(Corrupt) -> TrackedAlert.Labels {
            let entries = try count()
            return try origins.labels { key, own throws(Corrupt) in
                for _ in 0..<entries {
                    let name = try messages.word(try number())
                    key.append(contentsOf: name.counted)
                    key.append(name.isWordLabel ? 1 : 0)
                    switch try labelValue() {
                    case .word(let word):
                        if name.isWordLabel { key.append(contentsOf: word.counted) } else { own.append(contentsOf: word.counted) }
                    case .written(let range):
                        let value = UnsafeBufferPointer(rebasing: buffer[range])
                        if name.isWordLabel { TrackedAlert.Shape.append(value, to: &key) } else { TrackedAlert.Shape.append(value, to: &own) }
                    }
                }
            }
        }

        enum LabelValue {
            case word(MessageTable.Word)
            case written(Range<Int>)
        }

        /// A label value of format 4 (``Writer/labels(_:_:)``): a word, or where its bytes are.
        mutating func labelValue() throws(Corrupt) -> LabelValue {
            let tag = try leb128()
            if tag & 1 == 1 {
                guard tag >> 1 <= UInt64(Int32.max) else { throw Corrupt(reason: "a table number too large") }
                return .word(try messages.word(Int(tag >> 1)))
            }
            guard tag >> 1 <= UInt64(buffer.count - offset) else { throw Corrupt(reason: "a text past the end") }
            let length = Int(tag >> 1)
            defer { offset += length }
            return .written(offset..<offset + length)
        }

        mutating func optional<T>(_ read: (inout Reader) throws(Corrupt) -> T) throws(Corrupt) -> T? {
            switch try byte() {
            case 0: return nil
            case 1: return try read(&self)
            default: throw Corrupt(reason: "a bad optional marker")
            }
        }

        mutating func dictionary() throws(Corrupt) -> [String: String] {
            let entries = try count()
            var dictionary: [String: String] = [:]
            dictionary.reserveCapacity(entries)
            for _ in 0..<entries { dictionary[try string()] = try string() }
            return dictionary
        }

        mutating func value() throws(Corrupt) -> Value {
            switch try byte() {
            case 0: return .text(try string())
            case 1: return .integer(Int64(bitPattern: try fixed()))
            case 2: return .number(Double(bitPattern: try fixed()))
            case 3: return .bool(try byte() != 0)
            case 4: return .date(CivilDate(dayNumber: Int(Int64(bitPattern: try fixed()))))
            case 5: return .instant(try date())
            case 6: return .amountVND(Int64(bitPattern: try fixed()))
            case 7: return .percent(Double(bitPattern: try fixed()))
            case 8: return .list(try (0..<count()).map { _ throws(Corrupt) in try string() })
            case 9: return .localized(LocalizedText(vi: try string(), en: try string()))
            case let kind: throw Corrupt(reason: "unknown value kind \(kind)")
            }
        }
    }
}

/// The message templates and words of a state file, each kept once and numbered from 0 in the
/// order they were first written (the `messages` and `words` tables); packed alerts of format 3
/// name a template by its number, of format 4 also a word. Entries are only ever added, so a
/// reader whose table is older than a row it reads learns of it by
/// ``AlertCodec/Corrupt/missingEntry`` and reads the table again.
public struct MessageTable: Sendable {
    struct Entry: Sendable {
        let template: LocalizedText
        /// The template as ``AlertCodec/Writer/message(_:)`` writes it out: what the content hash
        /// of an alert takes in its place.
        let content: [UInt8]
    }

    struct Word: Sendable {
        let text: String
        /// The word with its length before it, as ``TrackedAlert/Labels`` keeps a name or value.
        let counted: [UInt8]
        /// One of ``AlertCodec/wordLabels``, as a label's name: known once per word, so the
        /// tracker's reader does not look each label's name up in a set.
        let isWordLabel: Bool
    }

    private(set) var entries: [Entry] = []
    private var numbers: [LocalizedText: Int] = [:]
    private var words: [Word] = []
    /// Keyed by the bytes, not by `String`'s equality, which takes two spellings of one text
    /// (composed and decomposed Vietnamese) as one: a word must read back as it was written.
    private var wordNumbers: [ExactText: Int] = [:]

    struct ExactText: Hashable {
        let text: String

        static func == (lhs: ExactText, rhs: ExactText) -> Bool {
            var (left, right) = (lhs.text, rhs.text)
            return left.withUTF8 { l in right.withUTF8 { r in l.elementsEqual(r) } }
        }

        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    public init() {}

    /// The table of a state file: its templates and its words, each in number order.
    public init(_ templates: [LocalizedText], words: [String] = []) {
        for template in templates { _ = number(of: template) }
        for word in words { _ = number(ofWord: word) }
    }

    public var count: Int { entries.count }

    /// The template numbered `number` (from 0).
    public subscript(number: Int) -> LocalizedText { entries[number].template }

    /// The template numbered last, found again without hashing: a step packs a rule's alerts one
    /// after another, and hashing a Vietnamese template (normalized to NFC on the way) for each
    /// was 570 of 4,200 samples of a national first cycle's row preparation (issue 21). Equal
    /// strings that share storage compare without reading it.
    private var last: (template: LocalizedText, number: Int)?

    /// `template`'s number; a new template is added at the end.
    public mutating func number(of template: LocalizedText) -> Int {
        if let last, last.template == template { return last.number }
        let number: Int
        if let known = numbers[template] {
            number = known
        } else {
            var writer = AlertCodec.Writer()
            writer.message(.template(template))
            entries.append(Entry(template: template, content: writer.bytes))
            number = entries.count - 1
            numbers[template] = number
        }
        last = (template, number)
        return number
    }

    public var wordCount: Int { words.count }

    /// The word numbered `number` (from 0).
    public func word(at number: Int) -> String { words[number].text }

    /// `word`'s number; a new word is added at the end.
    public mutating func number(ofWord word: String) -> Int {
        if let known = wordNumbers[ExactText(text: word)] { return known }
        var writer = AlertCodec.Writer()
        writer.string(word)
        words.append(Word(text: word, counted: writer.bytes, isWordLabel: AlertCodec.wordLabels.contains(word)))
        wordNumbers[ExactText(text: word)] = words.count - 1
        return words.count - 1
    }

    func entry(_ number: Int) throws(AlertCodec.Corrupt) -> Entry {
        guard number < entries.count else {
            throw AlertCodec.Corrupt(reason: "message template \(number) is not in the state file", missingEntry: number)
        }
        return entries[number]
    }

    func template(_ number: Int) throws(AlertCodec.Corrupt) -> LocalizedText { try entry(number).template }

    func word(_ number: Int) throws(AlertCodec.Corrupt) -> Word {
        guard number < words.count else {
            throw AlertCodec.Corrupt(reason: "word \(number) is not in the state file", missingEntry: number)
        }
        return words[number]
    }
}
