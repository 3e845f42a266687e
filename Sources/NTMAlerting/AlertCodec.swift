import CheckKit
import Foundation

/// The alert state's own compact form of an ``Alert``: length-prefixed fields in a fixed order,
/// behind a format byte. JSONDecoder took about 55 µs per alert, so a national state of 70,000
/// open alerts spent four seconds of every `ntmwatchd --once` (and of every start) decoding; this
/// form is read in a few microseconds. Dictionaries are written in key order, so one alert always
/// packs to the same bytes. JSON stays the form of every receiver and export.
public enum AlertCodec {
    /// 2: the message is a template or a text (``Alert/Message``), behind a byte. 1 (still read):
    /// the rendered summary alone.
    static let format: UInt8 = 2

    public struct Corrupt: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "an alert in the state file cannot be read: \(reason)" }
    }

    public static func pack(_ alert: Alert) -> [UInt8] {
        var out = Writer()
        out.bytes.reserveCapacity(512)
        out.byte(format)
        out.alert(alert)
        return out.bytes
    }

    /// A notification (the ledger's rows): its id, reason and instant, then its alert.
    public static func pack(_ notification: Notification) -> [UInt8] {
        pack(notification, packedAlert: pack(notification.alert))
    }

    /// A notification whose alert is packed already (`packedAlert` is `pack(notification.alert)`):
    /// the state writes an alert and its notification together, and packing every alert twice
    /// was a twentieth of a national first cycle.
    public static func pack(_ notification: Notification, packedAlert: [UInt8]) -> [UInt8] {
        var out = Writer()
        out.bytes.reserveCapacity(packedAlert.count + 64)
        out.byte(format)
        out.string(notification.id); out.string(notification.reason.rawValue); out.date(notification.at)
        out.bytes.append(contentsOf: packedAlert.dropFirst())
        return out.bytes
    }

    public static func unpack(_ bytes: some Collection<UInt8>) throws(Corrupt) -> Alert {
        try reading(bytes) { input throws(Corrupt) in try input.alert() }
    }

    public static func unpackNotification(_ bytes: some Collection<UInt8>) throws(Corrupt) -> Notification {
        try reading(bytes) { input throws(Corrupt) in
            let id = try input.string()
            guard let reason = Notification.Reason(rawValue: try input.string()) else { throw Corrupt(reason: "unknown reason") }
            let at = try input.date()
            return Notification(id: id, reason: reason, at: at, alert: try input.alert())
        }
    }

    private static func reading<T>(_ bytes: some Collection<UInt8>, _ read: (inout Reader) throws(Corrupt) -> T) throws(Corrupt) -> T {
        try Array(bytes).withUnsafeBufferPointer { buffer throws(Corrupt) in
            var input = Reader(buffer: buffer)
            input.format = try input.byte()
            guard input.format == 1 || input.format == format else { throw Corrupt(reason: "unknown format \(input.format)") }
            let value = try read(&input)
            guard input.isAtEnd else { throw Corrupt(reason: "bytes after the alert") }
            return value
        }
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func alert(_ alert: Alert) {
            string(alert.fingerprint); string(alert.scope); string(alert.check)
            string(alert.ruleID); string(alert.messageID)
            dictionary(alert.labels)
            string(alert.subject.kind); string(alert.subject.id); string(alert.subject.name)
            optional(alert.subject.unitID) { $0.string($1) }
            string(alert.severity.rawValue); string(alert.status.rawValue)
            date(alert.activeSince)
            optional(alert.firingSince) { $0.date($1) }
            optional(alert.resolvedAt) { $0.date($1) }
            optional(alert.lastNotifiedAt) { $0.date($1) }
            optional(alert.lastNotifiedSeverity) { $0.string($1.rawValue) }
            count(alert.values.count)
            for key in alert.values.keys.sorted() {
                string(key)
                value(alert.values[key]!)
            }
            switch alert.message {
            case .rendered(let text): byte(0); string(text.vi); string(text.en)
            case .template(let template): byte(1); string(template.vi); string(template.en)
            }
            optional(alert.silencedBy) { writer, ids in
                writer.count(ids.count)
                ids.forEach { writer.string($0) }
            }
            optional(alert.inhibitedBy) { $0.string($1) }
            optional(alert.source) { $0.string($1) }
        }

        mutating func byte(_ value: UInt8) { bytes.append(value) }

        /// LEB128: counts and lengths are small.
        mutating func count(_ value: Int) {
            var rest = UInt64(value)
            repeat {
                let low = UInt8(rest & 0x7f)
                rest >>= 7
                bytes.append(rest == 0 ? low : low | 0x80)
            } while rest != 0
        }

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

        mutating func dictionary(_ dictionary: [String: String]) {
            count(dictionary.count)
            for key in dictionary.keys.sorted() {
                string(key)
                string(dictionary[key]!)
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

    private struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        var offset = 0
        var format: UInt8 = 0

        mutating func alert() throws(Corrupt) -> Alert {
            let fingerprint = try string(), scope = try string(), check = try string()
            let ruleID = try string(), messageID = try string()
            let labels = try dictionary()
            let subject = Subject(kind: try string(), id: try string(), name: try string(),
                                  unitID: try optional { reader throws(Corrupt) in try reader.string() })
            let severity = try severity()
            guard let status = Alert.Status(rawValue: try string()) else { throw Corrupt(reason: "unknown status") }
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
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 63 else { throw Corrupt(reason: "a length too long") }
                value |= UInt64(next & 0x7f) << shift
                if next & 0x80 == 0 { break }
                shift += 7
            }
            // Every counted item takes at least a byte: a larger count is damage, not a big alert.
            guard value <= UInt64(buffer.count - offset) else { throw Corrupt(reason: "a length past the end") }
            return Int(value)
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
            guard let severity = Severity(rawValue: try string()) else { throw Corrupt(reason: "unknown severity") }
            return severity
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
