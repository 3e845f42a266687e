import CheckKit
import Foundation
import Logging
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// Digests from the alert history, once per period across restarts and backfills, as files,
/// by e-mail (real msmtp and SMTP server) and rendered by headless Chromium.
@Suite(.serialized) struct DigestTests {
    let logger = Logger(label: "test")
    /// 2024-10-25 in Vietnam: 00:00 and the day's 07:30 digest.
    let t0 = InstantText.parse("2024-10-25")!
    func vn(_ text: String) -> Date { try! Date("\(text)+07:00", strategy: .iso8601) }
    static let tool = (Sandbox.products as NSString).appendingPathComponent("ntmwatch")

    func digests(_ sandbox: Sandbox) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sandbox.path("spool/province"))) ?? []).filter { $0.hasPrefix("digest-") }.sorted()
    }

    @Test func oneDigestPerPeriodAcrossRestartsAndBackfillsFromTheHistory() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration()
        var text = try String(contentsOfFile: sandbox.path("ntmwatch.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "directory: spool/province\n", with: "directory: spool/province\n    digest: {schedule: \"daily 07:30\"}\n")
        try sandbox.write("ntmwatch.yaml", text)

        var engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: vn("2024-10-25T06:00:00"))
        #expect(digests(sandbox) == ["digest-2024-10-24-0730.html"])
        try await engine.runCycle(at: vn("2024-10-25T08:00:00"))
        await engine.close()
        #expect(digests(sandbox) == ["digest-2024-10-24-0730.html", "digest-2024-10-25-0730.html"])

        // A restart, the same day again, and a backfill of the day before: nothing more.
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: vn("2024-10-25T09:00:00"))
        try await engine.runCycle(at: vn("2024-10-24T09:00:00"))
        #expect(try await engine.state.sentDigests().map(\.receiver) == ["province", "province"])
        await engine.close()
        #expect(digests(sandbox).count == 2)

        // Tiên Lãnh is silenced until the end of 27/10; the next day's digest lists it with that end.
        let silenced = try Sandbox.run(Self.tool, ["silence", "add", "--config", sandbox.path("ntmwatch.yaml"), "--match", "subject_id=QNA.TP.TL",
                                                   "--starts", "2024-10-25", "--until", "2024-10-27", "--comment", "Đã gia hạn"])
        #expect(silenced.status == 0, "\(silenced.output)")
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: vn("2024-10-25T12:00:00"))
        try await engine.runCycle(at: vn("2024-10-26T07:45:00"))
        await engine.close()
        var digest = try printDigest(sandbox, at: "2024-10-26T07:45:00+07:00")
        #expect(digest.first == "Bản tin cảnh báo của province, từ 07:30 25/10/2024 đến 07:30 26/10/2024")
        #expect(section(digest, "MỚI (0)") == ["- không có"])
        let firing = section(digest, "ĐANG XẢY RA (1)")
        #expect(firing.count == 3 && firing.prefix(2) == ["Đại Lộc", "  Đại Chánh"], "\(digest)")
        #expect(firing.last?.hasPrefix("  - [Cảnh báo] Xã Đại Chánh cần xử lý trước ngày") == true, "\(digest)")
        #expect(section(digest, "ĐÃ HẾT (0)").isEmpty)
        #expect(section(digest, "ĐANG TẠM DỪNG (1)").first?.hasSuffix("(đến 00:00 28/10/2024)") == true, "\(digest)")
        #expect(section(digest, "ĐANG TẠM DỪNG (1)").first?.hasPrefix("- Xã Tiên Lãnh") == true, "\(digest)")
        #expect(digests(sandbox).last == "digest-2024-10-26-0730.html")

        // Then the check flags the plains: Tiên Cảnh is new, Đại Chánh and (silently) Tiên Lãnh resolve.
        _ = try sandbox.configuration(checks: "  - module: testcheck\n    settings: {flag_region: plains}\n")
        text = try String(contentsOfFile: sandbox.path("ntmwatch.yaml"), encoding: .utf8)
        try sandbox.write("ntmwatch.yaml", text.replacingOccurrences(
            of: "directory: spool/province\n", with: "directory: spool/province\n    digest: {schedule: \"daily 07:30\"}\n"))
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: vn("2024-10-26T12:00:00"))
        try await engine.runCycle(at: vn("2024-10-27T07:45:00"))
        await engine.close()
        digest = try printDigest(sandbox, at: "2024-10-27T07:45:00+07:00")
        #expect(section(digest, "MỚI (1)").first?.hasPrefix("- [Cảnh báo] Xã Tiên Cảnh") == true, "\(digest)")
        #expect(section(digest, "ĐANG XẢY RA (1)").prefix(2) == ["Tiên Phước", "  Tiên Cảnh"], "\(digest)")
        #expect(section(digest, "ĐÃ HẾT (2)").map { String($0.prefix(15)) }.sorted() == ["- Xã Tiên Lãnh ", "- Xã Đại Chánh "], "\(digest)")
        #expect(section(digest, "ĐANG TẠM DỪNG (0)").isEmpty)

        // Headless Chromium (one process) renders the digest with the silence; the DOM keeps the Vietnamese intact.
        let page = sandbox.path("spool/province/digest-2024-10-26-0730.html")
        let dom = try Sandbox.run("/usr/bin/chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(page)"])
        #expect(dom.output.contains("<h1>Bản tin cảnh báo của province</h1>"), "\(dom.output)")
        #expect(dom.output.contains("<h3>Đại Lộc</h3>") && dom.output.contains("<h4>Đại Chánh</h4>"), "\(dom.output)")
        #expect(dom.output.contains("<h2>Đang tạm dừng (1)</h2>") && dom.output.contains("(đến 00:00 28/10/2024)</li>"), "\(dom.output)")
    }

    func printDigest(_ sandbox: Sandbox, at instant: String) throws -> [String] {
        let printed = try Sandbox.run(Self.tool, ["digest", "--config", sandbox.path("ntmwatch.yaml"), "--receiver", "province", "--at", instant])
        #expect(printed.status == 0, "\(printed.output)")
        return printed.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The lines under a heading, up to the next empty line.
    func section(_ lines: [String], _ title: String) -> [String] {
        Array(lines.drop { $0 != title }.dropFirst().prefix { !$0.isEmpty })
    }

    /// A webhook takes notifications, not pages: an HTTP receiver's digest is a file in its
    /// `digest.directory`, which the configuration requires.
    @Test func anHTTPReceiversDigestIsAFileInItsDigestDirectory() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let text = try String(contentsOfFile: try sandbox.configuration(), encoding: .utf8)
        func configure(_ digest: String) throws {
            try sandbox.write("ntmwatch.yaml", text.replacingOccurrences(
                of: "directory: spool/province\n", with: "http: {url: http://127.0.0.1:1/hook}\n    digest: \(digest)\n"))
        }
        try configure("{schedule: \"daily 07:30\"}")
        let error = try #require(throws: ConfigError.self) { try sandbox.load() }
        #expect(error.key == "receivers[0].digest.directory" && error.line != nil, "\(error)")

        try configure("{schedule: \"daily 07:30\", directory: digests}")
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: vn("2024-10-25T08:00:00"))
        await engine.close()
        let page = try String(contentsOfFile: sandbox.path("digests/digest-2024-10-25-0730.html"), encoding: .utf8)
        #expect(page.contains("<h1>Bản tin cảnh báo của province</h1>"))
    }

    @Test func anEmailReceiversDigestIsOneMessage() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let mail = try MailPeer(in: sandbox); defer { mail.stop() }
        try sandbox.installModule("libNTMTestCheck.so")
        try MailPeer.configure(sandbox, receivers: """
              - name: province
                email: \(mail.email(to: "vp@tinh.example"))
                digest: {schedule: "weekly mon 07:30", directory: digests}
            """)
        let engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: vn("2024-10-28T08:00:00"))
        try await engine.runCycle(at: vn("2024-10-28T09:00:00"))
        await engine.close()
        let digests = try mail.messages().filter { $0.message_id.hasPrefix("<digest.") }
        #expect(digests.count == 1)
        #expect(digests.first?.subject == "[ntmwatch] Bản tin province đến 07:30 28/10/2024: 0 mới, 2 đang xảy ra, 0 đã hết")
        #expect(digests.first?.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(FileManager.default.fileExists(atPath: sandbox.path("digests/digest-2024-10-28-0730.html")))
    }
}
