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
            values: optionals ? everyValue : [:], message: .rendered(LocalizedText(vi: "Nợ quá hạn", en: "Overdue debt")))
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

    /// An alert keeps its finding's template (issue 21): packed, it comes back a template, and
    /// renders in each language when read. JSON carries the text, never the template.
    @Test func aTemplateComesBackAsATemplate() throws {
        var alert = Self.alert(optionals: true)
        let template = LocalizedText(vi: "{subject}: {localized}", en: "{subject}: {localized}")
        alert.message = .template(template)
        let back = try AlertCodec.unpack(AlertCodec.pack(alert))
        #expect(back == alert && back.message == .template(template))
        #expect(back.summary == LocalizedText(vi: "Đường trục xã: Chưa đạt", en: "Đường trục xã: Not met"))
        #expect(back.summary(in: .en) == "Đường trục xã: Not met")
        let json = try JSONDecoder().decode(Alert.self, from: JSONEncoder().encode(back))
        #expect(json.message == .rendered(back.summary))
    }

    /// A state file written before templates were kept (format 1, here an alert as ntmwatch 8cfa547
    /// wrote it) still reads, with its summary as rendered then.
    @Test func aFormatOneAlertReadsWithTheTextItWasGiven() throws {
        let hex = """
            011035623961386666623738383031313536046465627404646562740D646562742E6E65775F6465627420323635303430313436373866\
            34653165393162633430346137643233303632330909616C6572746E616D650D646562742E6E65775F6465627405636865636B04646562\
            7407636F6D6D756E650643303030303908646973747269637402443908696E7374616E63650562656E63680870726F76696E6365015004\
            72756C650D646562742E6E65775F646562740A7375626A6563745F6964064330303030390C7375626A6563745F6B696E6404756E697404\
            756E6974064330303030390558C3A320390106433030303039077761726E696E6706666972696E6700000088D161C7410100000088D161\
            C741000100000088D161C74101077761726E696E670507646562745F6F6E04784E00000000000008646562745F766E64068028971F0000\
            00000C696E6372656173655F766E6406804A5D05000000001170726576696F75735F646562745F766E640600DE391A000000000B707265\
            76696F75735F6F6E040A4D0000000000009C0158C3A320393A206EE1BBA320C491E1BB8D6E6720584443422074C4836E672039302E3030\
            302E30303020C4912C2074E1BBAB203434302E3030302E30303020C491202833312F31322F3230323329206CC3AA6E203533302E303030\
            2E30303020C491202833312F31322F32303234293B206B68C3B46E6720C491C6B0E1BBA36320C491E1BB83207068C3A1742073696E6820\
            6EE1BBA3206DE1BB9B69890158C3A320393A20636F6E737472756374696F6E2064656274206772657720627920564E442039302C303030\
            2C3030302C2066726F6D20564E44203434302C3030302C3030302028323032332D31322D33312920746F20564E44203533302C3030302C\
            3030302028323032342D31322D3331293B206E6F206E65772064656274206D61792061726973650000010930303220C2A7562E33
            """
        var bytes: [UInt8] = []
        var digits = hex.makeIterator()
        while let high = digits.next(), let low = digits.next() { bytes.append(UInt8(String([high, low]), radix: 16)!) }
        let alert = try AlertCodec.unpack(bytes)
        #expect(alert.ruleID == "debt.new_debt" && alert.subject.name == "Xã 9" && alert.source == "002 §V.3")
        #expect(alert.values["debt_vnd"] == .amountVND(530_000_000))
        #expect(alert.message == .rendered(alert.summary))
        #expect(alert.summary.vi.hasPrefix("Xã 9: nợ đọng XDCB tăng 90.000.000 đ"))
        #expect(alert.summary.en.hasSuffix("no new debt may arise"))
        // Its tracked view is the decoded alert's, and never equal in content to a template's.
        let tracked = try AlertCodec.tracked(bytes)
        #expect(tracked.fingerprint == alert.fingerprint && tracked.labels.dictionary == alert.labels)
        #expect(tracked.status == alert.status && tracked.lastNotifiedAt == alert.lastNotifiedAt)
        #expect(tracked.content != AlertContent.hash(subject: alert.subject, values: alert.values,
                                                     message: .template(alert.summary), source: alert.source))
        let again = AlertCodec.pack(alert)
        #expect(again.first == AlertCodec.format && AlertCodec.format == 2)
        #expect(try AlertCodec.unpack(again) == alert)
    }

    /// The tracker's view read straight from the packed bytes (issue 21: a national state is read
    /// at every start) is the view of the alert decoded whole: same fields, same labels, and the
    /// content hash a finding of the same content gets, so a steady run changes nothing.
    @Test(arguments: [true, false])
    func theTrackedViewOfPackedBytesIsTheDecodedAlerts(optionals: Bool) throws {
        for message in [Alert.Message.rendered(LocalizedText(vi: "Nợ quá hạn", en: "Overdue debt")),
                        .template(LocalizedText(vi: "{subject}: {localized}", en: "{subject}: {localized}"))] {
            var alert = Self.alert(optionals: optionals)
            alert.message = message
            let tracked = try AlertCodec.tracked(AlertCodec.pack(alert))
            #expect(tracked == TrackedAlert(alert))
            #expect(tracked.labels.dictionary == alert.labels && tracked.subjectID == alert.subject.id)
            #expect(tracked.content == AlertContent.hash(subject: alert.subject, values: alert.values, message: alert.message,
                                                         source: alert.source))
            var changed = alert
            changed.values["integer"] = .integer(-41)
            #expect(try AlertCodec.tracked(AlertCodec.pack(changed)).content != tracked.content)
        }
        let damaged = AlertCodec.pack(Self.alert(optionals: optionals))
        for cut in [1, damaged.count / 2, damaged.count - 1] {
            #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.tracked(damaged.prefix(cut)) }
        }
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
