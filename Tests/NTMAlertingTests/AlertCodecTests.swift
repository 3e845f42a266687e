import CheckKit
import Foundation
import Testing
@testable import NTMAlerting

/// The alert state's packed form gives back exactly the alert it was given, for every kind of
/// value and every optional field, and refuses damaged bytes instead of reading a wrong alert.
@Suite struct AlertCodecTests {
    static let everyValue: [String: Value] = [
        "text": .text("Xã Tiên Lãnh — \"quoted\"\n"), "integer": .integer(-42), "number": .number(0.1 + 0.2),
        "bool": .bool(true), "date": .date(CivilDate(year: 2025, month: 6, day: 30)!),
        "instant": .instant(Date(timeIntervalSinceReferenceDate: 784_111_777.123_456)),
        "amount": .amountVND(1_234_567_000), "percent": .percent(92.5), "list": .list(["a", "", "Đại Chánh"]),
        "localized": .localized(LocalizedText(vi: "Chưa đạt", en: "Not met")), "empty": .text(""),
    ]

    static func alert(optionals: Bool) -> Alert {
        var alert = Alert(
            fingerprint: "9f2c", scope: "meta:debt", check: "debt", ruleID: "debt.overdue", messageID: "0123456789abcdef",
            labels: ["check": "debt", "rule": "debt.overdue", "subject_id": "QNA.TP.TL", "commune": "QNA.TP.TL"],
            subject: Subject(kind: "project", id: "P-1", name: "Đường trục xã", unitID: optionals ? "QNA.TP.TL" : nil),
            severity: .critical, status: .firing, activeSince: Date(timeIntervalSince1970: 1_730_000_000.5),
            firingSince: optionals ? Date(timeIntervalSince1970: 1_730_003_600) : nil,
            resolvedAt: optionals ? Date(timeIntervalSince1970: 1_730_090_000) : nil,
            lastNotifiedAt: optionals ? Date(timeIntervalSince1970: 1_730_003_600) : nil,
            lastNotifiedSeverity: optionals ? .warning : nil,
            values: optionals ? everyValue : [:], summary: LocalizedText(vi: "Nợ quá hạn", en: "Overdue debt"))
        if optionals {
            alert.silencedBy = ["s-1", "s-2"]
            alert.inhibitedBy = "abcd"
            alert.source = "002 §IV.9"
        }
        return alert
    }

    @Test(arguments: [true, false])
    func anAlertComesBackAsItWent(optionals: Bool) throws {
        let alert = Self.alert(optionals: optionals)
        let packed = AlertCodec.pack(alert)
        #expect(try AlertCodec.unpack(packed) == alert)
        // Dictionaries go in key order: the same alert always packs to the same bytes.
        var shuffled = alert
        shuffled.labels = Dictionary(uniqueKeysWithValues: alert.labels.reversed())
        #expect(AlertCodec.pack(shuffled) == packed)
    }

    @Test func aNotificationComesBackAsItWent() throws {
        let notification = Notification(id: "9f2c-1730003600-firing", reason: .severityChanged,
                                        at: Date(timeIntervalSince1970: 1_730_003_600.25), alert: Self.alert(optionals: true))
        #expect(try AlertCodec.unpackNotification(AlertCodec.pack(notification)) == notification)
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpackNotification(AlertCodec.pack(notification).dropLast()) }
    }

    @Test func damagedBytesAreRefusedNotMisread() {
        let packed = AlertCodec.pack(Self.alert(optionals: true))
        for cut in [0, 1, packed.count / 2, packed.count - 1] {
            #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack(packed.prefix(cut)) }
        }
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack(packed + [0]) }
        var unknownFormat = packed
        unknownFormat[0] = 99
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack(unknownFormat) }
        // A length claiming more bytes than there are.
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack([AlertCodec.format, 0xff, 0xff, 0x03, 0x41]) }
    }
}
