import CheckKit
import Foundation
import Logging
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// E-mail receivers end to end: the engine hands each group to the real `msmtp`, which sends it
/// to a real SMTP server on loopback; Python's `email` package parses what arrived.
@Suite(.serialized) struct EmailDeliveryTests {
    let logger = Logger(label: "test")
    let t0 = InstantText.parse("2024-10-25")!

    func configure(_ sandbox: Sandbox, mail: MailPeer) throws {
        try MailPeer.configure(sandbox, receivers: """
              - name: province
                email: \(mail.email(to: "vp@tinh.example, lanh-dao@tinh.example"))
              - name: tien-phuoc
                email: \(mail.email(to: "tp@huyen.example"))
            """, route: """
            route:
              receiver: province
              routes:
                - match: {district: QNA.TP}
                  receiver: tien-phuoc
                  continue: true
                - receiver: province
            """)
    }

    @Test func eachGroupIsOneVietnameseMessageToItsReceiversRecipientsAndARestartSendsNothingTwice() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let mail = try MailPeer(in: sandbox); defer { mail.stop() }
        try sandbox.installModule("libNTMTestCheck.so")
        try configure(sandbox, mail: mail)
        var engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        let notified = try await engine.state.notifications()
        await engine.close()

        let messages = try mail.messages()
        #expect(messages.count == 2)
        let province = try #require(messages.first { $0.rcpt_to.contains("vp@tinh.example") })
        #expect(province.rcpt_to.sorted() == ["lanh-dao@tinh.example", "vp@tinh.example"])
        #expect(province.to.sorted() == ["lanh-dao@tinh.example", "vp@tinh.example"])
        #expect(province.from == "ntmwatch@tinh.example")
        #expect(province.raw_subject.hasPrefix("=?UTF-8?B?"))
        #expect(province.subject == "[ntmwatch] 2 cảnh báo cần xử lý: Tiên Lãnh, Đại Chánh")
        #expect(province.content_type == "multipart/alternative" && province.defects.isEmpty)
        #expect(province.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(province.parts.allSatisfy { $0.charset == "utf-8" && $0.encoding == "base64" })
        #expect(province.parts[0].content.contains("Xã Tiên Lãnh cần xử lý trước ngày 01/11/2024, số tiền 1.234.567.000 đ"))
        #expect(province.parts[0].content.contains("[Cảnh báo] Đang xảy ra:"))
        #expect(province.parts[1].content.contains("<td>Xã Đại Chánh cần xử lý trước ngày 01/11/2024, số tiền 1.234.567.000 đ</td>"))
        #expect(province.notification_ids.sorted() == notified.map(\.id).sorted())
        let district = try #require(messages.first { $0.rcpt_to == ["tp@huyen.example"] })
        #expect(district.subject == "[ntmwatch] 1 cảnh báo cần xử lý: Tiên Lãnh")
        #expect(district.notification_ids == notified.filter { $0.alert.subject.id == "QNA.TP.TL" }.map(\.id))

        // A restart and a cycle an hour later: nothing new, nothing sent again.
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0.addingTimeInterval(3600))
        await engine.close()
        let all = try mail.messages()
        #expect(Set(all.map(\.message_id)).count == all.count)
    }

    /// The hang of issue 18: the capture server, started from a test's thread, inherited a mask
    /// that blocks SIGTERM, so stopping it never returned and the suite spun at full CPU.
    @Test func theCaptureServerStopsWithinSeconds() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let mail = try MailPeer(in: sandbox)
        let stopped = DispatchSemaphore(value: 0)
        Thread { mail.stop(); stopped.signal() }.start()
        #expect(stopped.wait(timeout: .now() + 20) == .success, "the SMTP capture server did not stop within 20 s")
    }

    @Test func aFailingSendmailIsARetriedDeliveryFailureWithItsMessage() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let mail = try MailPeer(in: sandbox)
        mail.stop()  // nothing listens on its port any more
        try sandbox.installModule("libNTMTestCheck.so")
        try configure(sandbox, mail: mail)
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        let failures = try await engine.state.deliveryEvents().filter { $0.result == "failed" }
        #expect(try await engine.state.ledgerDepth().pending == 3)
        await engine.close()
        #expect(Set(failures.map(\.receiver)) == ["province", "tien-phuoc"])
        let error = try #require(failures.first?.error)
        #expect(error.hasPrefix("/usr/bin/msmtp exited with status"), "\(error)")
        #expect(error.contains("msmtp: "), "msmtp's own stderr is kept: \(error)")
    }

    @Test func operatorTemplatesReplaceTheBundledOnesAndABrokenOneIsAConfigurationError() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try FileManager.default.createDirectory(atPath: sandbox.path("templates"), withIntermediateDirectories: true)
        try sandbox.write("templates/email-subject.vi.mustache", "Cảnh báo NTM: {{count}} mục ({{receiver}})")
        try MailPeer.configure(sandbox, receivers: "  - name: province\n    email: {to: [vp@tinh.example], from: ntmwatch@tinh.example, templates: templates}\n")
        let configuration = try sandbox.load()
        guard case .email(let settings) = try #require(configuration.receivers.first).integration else {
            Issue.record("province is not an e-mail receiver"); return
        }
        #expect(settings.templates.subject.render(["count": 3, "receiver": "province"]) == "Cảnh báo NTM: 3 mục (province)")
        #expect(settings.templates.text.render(["receiver": "province", "alerts": [[String: Any]]()]).hasPrefix("Kính gửi province,"))

        try sandbox.write("templates/email-html.vi.mustache", "{{#alerts}}unclosed")
        let text = #expect(throws: ConfigError.self) { try sandbox.load() }?.text(in: .en) ?? ""
        #expect(text.contains("receivers[0].email.templates") && text.contains("email-html.vi.mustache"), "\(text)")

        try sandbox.write("ntmwatch.yaml", """
            state_directory: state
            store: {sqlite: state/store.sqlite}
            receivers:
              - name: province
                email: {to: ["vp@tinh.example\\nBcc: x@evil.example"], from: ntmwatch@tinh.example}

            """)
        let injected = #expect(throws: ConfigError.self) { try sandbox.load() }?.text(in: .en) ?? ""
        #expect(injected.contains("receivers[0].email.to") && injected.contains("not an e-mail address"), "\(injected)")
    }
}
