import CheckKit
import Foundation
import Logging
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// Silences written by the real `ntmwatch` binary into the state file of an engine that is
/// running, over a module loaded with dlopen, an SQLite store and webhook files.
@Suite struct SilenceEngineTests {
    let logger = Logger(label: "test")
    let t0 = InstantText.parse("2024-10-25")!
    static let tool = (Sandbox.products as NSString).appendingPathComponent("ntmwatch")

    func ntmwatch(_ sandbox: Sandbox, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Sandbox.run(Self.tool, arguments + ["--config", sandbox.path("ntmwatch.yaml"), "--lang", "en"])
    }

    func alerts(_ sandbox: Sandbox, _ receiver: String, subject: String) throws -> [String] {
        try sandbox.webhookFiles(receiver).flatMap(\.payload.alerts).filter { $0.labels["subject_id"] == subject }.map(\.status)
    }

    @Test func aSilenceAddedWhileTheDaemonRunsMutesEveryReceiverSurvivesARestartAndEndsWithAFiringNotification() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        _ = try sandbox.configuration()
        var engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0)
        #expect(try alerts(sandbox, "tien-phuoc", subject: "QNA.TP.TL") == ["firing"])

        // Added while the engine holds the state file open.
        let added = try ntmwatch(sandbox, ["silence", "add", "--match", "commune=QNA.TP.TL", "--match", "rule=~testcheck\\..*",
                                           "--starts", "2024-10-25", "--until", "2024-10-27", "--comment", "Gia hạn đến 27/10",
                                           "--author", "Nguyễn Văn A"])
        #expect(added.status == 0, "\(added.output)")
        let id = try #require(added.output.split(separator: "\n").first.map(String.init))
        #expect(added.output.contains("Mutes 1 tracked alerts."))
        let nothing = try ntmwatch(sandbox, ["silence", "add", "--match", "commune=QNA.XX", "--for", "1d", "--comment", "x"])
        #expect(nothing.status == 0 && nothing.output.contains("warning: no current alert matches commune=\"QNA.XX\""), "\(nothing.output)")
        let bad = try ntmwatch(sandbox, ["silence", "add", "--match", "commune=~QNA.(", "--for", "1d", "--comment", "x"])
        #expect(bad.status == 2 && bad.output.contains("commune=~QNA.(': not a valid regular expression"), "\(bad.output)")

        // A day later both alerts are due for a repeat; only Đại Chánh's is told, to no receiver for Tiên Lãnh.
        try await engine.runCycle(at: t0.addingTimeInterval(25 * 3600))
        #expect(try alerts(sandbox, "tien-phuoc", subject: "QNA.TP.TL") == ["firing"])
        #expect(try alerts(sandbox, "province", subject: "QNA.TP.TL") == ["firing"])
        #expect(try alerts(sandbox, "province", subject: "QNA.DL.DC") == ["firing", "firing"])
        let tienLanh = try #require(try await engine.activeAlerts().first { $0.subject.id == "QNA.TP.TL" })
        #expect(tienLanh.silencedBy == [id])
        // No ledger row for a muted notification: only the first firing one was ever recorded.
        #expect(try await engine.state.notifications().filter { $0.alert.fingerprint == tienLanh.fingerprint }.count == 1)
        #expect(try await engine.state.transitions(of: tienLanh.fingerprint).last?.silencedBy == id)
        let listed = try ntmwatch(sandbox, ["alerts"])
        #expect(listed.output.split(separator: "\n").contains { $0.contains("Tiên Lãnh") && $0.hasSuffix("silenced by \(id)") }, "\(listed.output)")
        await engine.close()

        // After a restart, still muted.
        engine = try await Engine.start(try sandbox.load(), logger: logger)
        try await engine.runCycle(at: t0.addingTimeInterval(50 * 3600))
        #expect(try alerts(sandbox, "province", subject: "QNA.TP.TL") == ["firing"])
        // The silence ended at the end of 27/10 in Vietnam; the alert still fires and is told again, as firing.
        try await engine.runCycle(at: t0.addingTimeInterval(72 * 3600))
        await engine.close()
        #expect(try alerts(sandbox, "province", subject: "QNA.TP.TL") == ["firing", "firing"])
        #expect(try alerts(sandbox, "tien-phuoc", subject: "QNA.TP.TL") == ["firing", "firing"])
        let list = try ntmwatch(sandbox, ["silence", "list", "--expired"])
        #expect(list.output.contains("\(id)\texpired\t") && list.output.contains("Nguyễn Văn A"), "\(list.output)")
    }

    @Test func silencesExpireAndMoveBetweenInstallationsAsAlertmanagerJSON() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        _ = try sandbox.configuration()
        let added = try ntmwatch(sandbox, ["silence", "add", "--match", "rule=deadline.overdue", "--match", "commune!~201(07|08)",
                                           "--for", "14d", "--comment", "Đã báo cáo UBND huyện"])
        #expect(added.status == 0, "\(added.output)")
        let id = String(added.output.prefix { $0 != "\n" })
        let exported = try ntmwatch(sandbox, ["silence", "export"])
        try sandbox.write("silences.json", exported.output)
        let json = try JSONSerialization.jsonObject(with: Data(exported.output.utf8)) as! [[String: Any]]
        #expect(json.count == 1 && json[0]["id"] as? String == id && json[0]["comment"] as? String == "Đã báo cáo UBND huyện")
        let matchers = json[0]["matchers"] as! [[String: Any]]
        #expect(matchers[1]["isRegex"] as? Bool == true && matchers[1]["isEqual"] as? Bool == false)
        #expect((json[0]["status"] as? [String: Any])?["state"] as? String == "active")

        let expired = try ntmwatch(sandbox, ["silence", "expire", id])
        #expect(expired.status == 0 && expired.output.contains("Expired \(id)."))
        #expect(try ntmwatch(sandbox, ["silence", "list"]).output.contains("No silences."))
        #expect(try ntmwatch(sandbox, ["silence", "expire", "no-such-id"]).status == 2)

        let other = try Sandbox(); defer { other.remove() }
        _ = try other.configuration()
        let imported = try ntmwatch(other, ["silence", "import", sandbox.path("silences.json")])
        #expect(imported.status == 0 && imported.output.contains("Imported 1 silences."), "\(imported.output)")
        #expect(try ntmwatch(other, ["silence", "list"]).output.contains("\(id)\tactive\t"))
        try other.write("broken.json", #"[{"matchers":[{"name":"rule","value":"x(","isRegex":true}],"startsAt":"2025-01-01T00:00:00Z","endsAt":"2025-01-02T00:00:00Z","createdBy":"a","comment":"b"}]"#)
        let broken = try ntmwatch(other, ["silence", "import", other.path("broken.json")])
        #expect(broken.status == 2 && broken.output.contains("broken.json: [0].matchers[0]"), "\(broken.output)")
    }
}
