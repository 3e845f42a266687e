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

    /// The bytes a fixture spells in hex.
    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var digits = hex.makeIterator()
        while let high = digits.next(), let low = digits.next() { bytes.append(UInt8(String([high, low]), radix: 16)!) }
        return bytes
    }

    @Test(arguments: [true, false])
    func anAlertComesBackAsItWent(optionals: Bool) throws {
        let alert = Self.alert(optionals: optionals)
        var messages = MessageTable()
        let packed = AlertCodec.pack(alert, messages: &messages)
        #expect(try AlertCodec.unpack(packed, messages: messages) == alert)
        // Dictionaries go in key order: the same alert always packs to the same bytes.
        var shuffled = alert
        shuffled.labels = Dictionary(uniqueKeysWithValues: alert.labels.reversed())
        #expect(AlertCodec.pack(shuffled, messages: &messages) == packed)
    }

    @Test func aNotificationComesBackAsItWent() throws {
        let notification = Notification(id: "9f2c-1730003600-firing", reason: .severityChanged,
                                        at: Date(timeIntervalSince1970: 1_730_003_600.25), alert: Self.alert(optionals: true))
        var messages = MessageTable()
        let packed = AlertCodec.pack(notification, messages: &messages)
        #expect(try AlertCodec.unpackNotification(packed, messages: messages) == notification)
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpackNotification(Array(packed.dropLast()), messages: messages) }
    }

    /// An alert keeps its finding's template (issue 21): packed, it comes back a template, and
    /// renders in each language when read. JSON carries the text, never the template.
    @Test func aTemplateComesBackAsATemplate() throws {
        var alert = Self.alert(optionals: true)
        let template = LocalizedText(vi: "{subject}: {localized}", en: "{subject}: {localized}")
        alert.message = .template(template)
        var messages = MessageTable()
        let back = try AlertCodec.unpack(AlertCodec.pack(alert, messages: &messages), messages: messages)
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
        let bytes = Self.bytes(hex: hex)
        let alert = try AlertCodec.unpack(bytes, messages: MessageTable())
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
        var messages = MessageTable()
        let again = AlertCodec.pack(alert, messages: &messages)
        #expect(again.first == AlertCodec.format && AlertCodec.format == 4)
        #expect(try AlertCodec.unpack(again, messages: messages) == alert)
    }

    /// A state file of schema 9 (format 2, here an alert as ntmwatch af32e4d wrote it in a national
    /// first cycle) has each template written out in the alert: it reads as that template, its
    /// tracked content is its finding's, so a steady run does not rewrite it, and packed again it
    /// names the template by number.
    @Test func aFormatTwoAlertReadsWithTheTemplateItCarries() throws {
        let hex = """
            02103135613035623334653333313630613608646561646C696E6508646561646C696E6510646561646C696E652E6F7665726475652031\
            613163643730333334656334653562626534613062333033336331323263390709616C6572746E616D6510646561646C696E652E6F7665\
            7264756505636865636B08646561646C696E6508696E7374616E63650562656E63680870726F76696E636501500472756C651064656164\
            6C696E652E6F7665726475650A7375626A6563745F69640F4F422D5040323032352D30392D32300C7375626A6563745F6B696E640A6F62\
            6C69676174696F6E0A6F626C69676174696F6E0F4F422D5040323032352D30392D32302954E1BB896E682062C3A16F2063C3A16F207468\
            C3A16E6720286BE1BBB32032302F30392F323032352901015008637269746963616C06666972696E6700000088D161C7410100000088D1\
            61C741000100000088D161C7410108637269746963616C060C646179735F6F766572647565013600000000000000086475655F64617465\
            047F4F000000000000086C6173745F646179047E4F0000000000000B6C6567616C5F6261736973000973796E7468657469630B72657370\
            6F6E7369626C65000C54E1BB896E68204DE1BAAB750A7375626D6974735F746F001042616E204368E1BB8920C491E1BAA16F01757B7375\
            626A6563747D3A207175C3A12068E1BAA16E207B646179735F6F7665726475657D206E67C3A07920286E67C3A079206375E1BB9169207B\
            6C6173745F6461797D293B206368E1BBA7207472C3AC3A207B726573706F6E7369626C657D3B207472C3AC6E683A207B7375626D697473\
            5F746F7D717B7375626A6563747D3A207B646179735F6F7665726475657D2064617973206F76657264756520286C61737420646179207B\
            6C6173745F6461797D293B20726573706F6E7369626C653A207B726573706F6E7369626C657D3B207375626D697420746F3A207B737562\
            6D6974735F746F7D0000010730303220C2A756
            """
        let bytes = Self.bytes(hex: hex)
        #expect(bytes.first == 2)
        let alert = try AlertCodec.unpack(bytes, messages: MessageTable())
        guard case .template(let template) = alert.message else {
            Issue.record("a format 2 template came back as \(alert.message)")
            return
        }
        #expect(alert.ruleID == "deadline.overdue" && alert.subject.id == "OB-P@2025-09-20")
        #expect(template.vi.hasPrefix("{subject}: quá hạn {days_overdue} ngày") && template.en.hasPrefix("{subject}: {days_overdue} days overdue"))
        #expect(try AlertCodec.tracked(bytes).content
                == AlertContent.hash(subject: alert.subject, values: alert.values, message: alert.message, source: alert.source))
        var messages = MessageTable()
        let again = AlertCodec.pack(alert, messages: &messages)
        #expect(messages.count == 1 && messages[0] == template)
        #expect(again.count < bytes.count - template.vi.utf8.count - template.en.utf8.count + 8)
        #expect(try AlertCodec.unpack(again, messages: messages) == alert)
        #expect(try AlertCodec.tracked(again, messages: messages) == AlertCodec.tracked(bytes))
    }

    /// A state file of schema 11 (format 3: an alert as ntmwatch a9938d1 wrote it, template 0 by
    /// number) reads with its table; its tracked view is unchanged by repacking, and packed again
    /// in format 4 its words go to the table (issue 21: they were a third of an alert's bytes).
    @Test func aFormatThreeAlertReadsAndPacksSmaller() throws {
        let hex = """
            03106236333139333866626338353435353508646561646C696E6508646561646C696E6517646561646C696E652E636F6D706C65746564\
            5F6C6174652063303839396463393861316634376232386239393262303633646461393461350909616C6572746E616D6517646561646C\
            696E652E636F6D706C657465645F6C61746505636865636B08646561646C696E6507636F6D6D756E650643303030303308646973747269\
            637402443308696E7374616E63650562656E63680870726F76696E636501500472756C6517646561646C696E652E636F6D706C65746564\
            5F6C6174650A7375626A6563745F69642B646F73736965722F4330303030332F6E746D2F323032352F636F6D6D756E655F746F5F646973\
            74726963740C7375626A6563745F6B696E640D646F73736965725F73746167650D646F73736965725F73746167652B646F73736965722F\
            4330303030332F6E746D2F323032352F636F6D6D756E655F746F5F64697374726963743648E1BB932073C6A1204E544D206EC4836D2032\
            3032352063E1BBA7612058C3A320333A2078C3A3207472C3AC6E6820687579E1BB876E0106433030303033066E6F746963650666697269\
            6E6700000088D161C7410100000088D161C741000100000088D161C74101066E6F74696365060C636F6D706C657465645F6F6E049D4F00\
            000000000009646179735F6C617465019000000000000000086475655F64617465040E4F000000000000086C6173745F646179040D4F00\
            00000000000B726573706F6E7369626C65000558C3A320330A7375626D6974735F746F0009487579E1BB876E203302000000010B303032\
            20C2A749562E3130
            """
        let bytes = Self.bytes(hex: hex)
        #expect(bytes.first == 3)
        let template = LocalizedText(vi: "{subject}: hoàn thành ngày {completed_on}, trễ {days_late} ngày so với ngày cuối {last_day}",
                                     en: "{subject}: completed on {completed_on}, {days_late} days after the last day {last_day}")
        let table = MessageTable([template])
        let alert = try AlertCodec.unpack(bytes, messages: table)
        #expect(alert.fingerprint == "b631938fbc854555" && alert.ruleID == "deadline.completed_late")
        #expect(alert.message == .template(template) && alert.labels["alertname"] == "deadline.completed_late")
        let tracked = try AlertCodec.tracked(bytes, messages: table)
        #expect(tracked.content == AlertContent.hash(subject: alert.subject, values: alert.values, message: alert.message,
                                                     source: alert.source))
        var messages = table
        let again = AlertCodec.pack(alert, messages: &messages)
        #expect(again.first == 4 && messages.count == 1)
        #expect(bytes.count - again.count > 150, "format 4: \(again.count) bytes against \(bytes.count)")
        #expect(try AlertCodec.unpack(again, messages: messages) == alert)
        #expect(try AlertCodec.tracked(again, messages: messages) == tracked)
    }

    /// Words are kept once in the table: the ids, severity, status and label names of every
    /// alert, and the values of the labeller's own labels. A unit's id stays in the alert, and a
    /// reader whose table lacks a word says which, so that it can read the table again.
    @Test func wordsAreKeptOnceAndUnitsStayInTheAlert() throws {
        var messages = MessageTable()
        var packed: [[UInt8]] = []
        for commune in ["QNA.TP.TL", "QNA.TP.TH"] {
            var alert = Self.alert(optionals: true)
            alert.fingerprint = "f-\(commune)"
            alert.labels["commune"] = commune
            alert.labels["alertname"] = alert.ruleID
            packed.append(AlertCodec.pack(alert, messages: &messages))
            #expect(try AlertCodec.unpack(packed.last!, messages: messages) == alert)
            #expect(try AlertCodec.tracked(packed.last!, messages: messages) == TrackedAlert(alert))
        }
        let words = Set((0..<messages.wordCount).map { messages.word(at: $0) })
        #expect(words.isSuperset(of: ["meta:debt", "debt", "debt.overdue", "0123456789abcdef", "critical", "warning", "firing",
                                      "alertname", "check", "commune", "rule", "subject_id"]))
        #expect(words.isDisjoint(with: ["QNA.TP.TL", "QNA.TP.TH", "P-1"]))
        func contains(_ bytes: [UInt8], _ text: String) -> Bool {
            let needle = Array(text.utf8)
            return bytes.indices.contains { bytes[$0...].starts(with: needle) }
        }
        #expect(!contains(packed[0], "debt.overdue") && contains(packed[0], "QNA.TP.TL") && contains(packed[1], "QNA.TP.TH"))
        let lastWord = messages.wordCount - 1
        let older = MessageTable([], words: (0..<lastWord).map { messages.word(at: $0) })
        do {
            _ = try AlertCodec.unpack(packed[0], messages: older)
            Issue.record("an alert whose word is missing from the table was read")
        } catch {
            #expect(error.missingEntry == lastWord)
        }
        do {
            _ = try AlertCodec.tracked(packed[0], messages: older)
            Issue.record("the tracked view of an alert whose word is missing from the table was read")
        } catch {
            #expect(error.missingEntry == lastWord)
        }
    }

    /// Two spellings of one Vietnamese text (composed and decomposed) are equal as `String`s but
    /// are two words: each reads back in the bytes it was written with.
    @Test func aWordReadsBackInItsOwnBytes() throws {
        let composed = "Trà Vinh", decomposed = "Tra\u{0300} Vinh"
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        var messages = MessageTable()
        var back: [String] = []
        for instance in [composed, decomposed] {
            var alert = Self.alert(optionals: false)
            alert.labels["instance"] = instance
            let packed = AlertCodec.pack(alert, messages: &messages)
            back.append(try #require(try AlertCodec.unpack(packed, messages: messages).labels["instance"]))
            #expect(try AlertCodec.tracked(packed, messages: messages).labels.dictionary["instance"].map { Array($0.utf8) }
                    == Array(instance.utf8))
        }
        #expect(back.map { Array($0.utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
        #expect(messages.number(ofWord: composed) != messages.number(ofWord: decomposed))
    }

    /// From format 3 a template is kept once (issue 21: templates were a third of a national first
    /// cycle's bytes): every alert of a rule names the same number, and a reader whose table
    /// lacks the number says which one, so that it can read the table again.
    @Test func aTemplateIsKeptOnceAndNamedByNumber() throws {
        let first = LocalizedText(vi: "{subject}: {localized}", en: "{subject}: {localized}")
        let second = LocalizedText(vi: "{subject} trễ hạn", en: "{subject} is late")
        var messages = MessageTable()
        var packed: [[UInt8]] = []
        for (index, template) in [first, second, first, second].enumerated() {
            var alert = Self.alert(optionals: index % 2 == 0)
            alert.fingerprint = "f\(index)"
            alert.message = .template(template)
            packed.append(AlertCodec.pack(alert, messages: &messages))
            #expect(try AlertCodec.unpack(packed[index], messages: messages) == alert)
        }
        #expect(messages.count == 2 && messages[0] == first && messages[1] == second)
        #expect(messages.number(of: second) == 1 && messages.count == 2)
        // Asked again in a row, and after another (the table remembers the last one it numbered).
        #expect(messages.number(of: second) == 1 && messages.number(of: first) == 0 && messages.number(of: first) == 0)
        #expect(messages.number(of: LocalizedText(vi: second.vi + "", en: String(second.en))) == 1 && messages.count == 2)
        // A reader that knows the first template (and the words) but not the second.
        let older = MessageTable([first], words: (0..<messages.wordCount).map { messages.word(at: $0) })
        #expect(try AlertCodec.unpack(packed[0], messages: older).message == .template(first))
        do {
            _ = try AlertCodec.unpack(packed[1], messages: older)
            Issue.record("a template missing from the table was read")
        } catch {
            #expect(error.missingEntry == 1)
        }
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.tracked(packed[3], messages: older) }
        // A rendered text stays in the alert: it is the alert's own.
        var rendered = Self.alert(optionals: false)
        rendered.message = .rendered(LocalizedText(vi: "Mô-đun lỗi", en: "Module failed"))
        #expect(try AlertCodec.unpack(AlertCodec.pack(rendered, messages: &messages), messages: messages) == rendered)
        #expect(messages.count == 2)
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
            var messages = MessageTable()
            let tracked = try AlertCodec.tracked(AlertCodec.pack(alert, messages: &messages), messages: messages)
            #expect(tracked == TrackedAlert(alert))
            #expect(tracked.labels.dictionary == alert.labels && tracked.subjectID == alert.subject.id)
            #expect(tracked.content == AlertContent.hash(subject: alert.subject, values: alert.values, message: alert.message,
                                                         source: alert.source))
            var changed = alert
            changed.values["integer"] = .integer(-41)
            #expect(try AlertCodec.tracked(AlertCodec.pack(changed, messages: &messages), messages: messages).content != tracked.content)
        }
        var messages = MessageTable()
        let damaged = AlertCodec.pack(Self.alert(optionals: optionals), messages: &messages)
        for cut in [1, damaged.count / 2, damaged.count - 1] {
            #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.tracked(damaged.prefix(cut), messages: messages) }
        }
    }

    @Test func damagedBytesAreRefusedNotMisread() {
        var messages = MessageTable()
        let packed = AlertCodec.pack(Self.alert(optionals: true), messages: &messages)
        for cut in [0, 1, packed.count / 2, packed.count - 1] {
            #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack(Array(packed.prefix(cut)), messages: messages) }
        }
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack(packed + [0], messages: messages) }
        var unknownFormat = packed
        unknownFormat[0] = 99
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack(unknownFormat, messages: messages) }
        // A length claiming more bytes than there are.
        #expect(throws: AlertCodec.Corrupt.self) { try AlertCodec.unpack([AlertCodec.format, 0xff, 0xff, 0x03, 0x41], messages: messages) }
    }
}
