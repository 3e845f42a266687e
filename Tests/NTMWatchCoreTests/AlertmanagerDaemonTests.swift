import Foundation
import Testing
@testable import NTMWatchCore
#if canImport(Glibc)
import Glibc
#endif

/// The daemon pushes its alerts to a real Alertmanager (Debian's, clustering off) when
/// `alertmanagers:` is configured: the wiring of issue 14's Alertmanager receiver.
@Suite(.serialized) struct AlertmanagerDaemonTests {
    static let daemon = (Sandbox.products as NSString).appendingPathComponent("ntmwatchd")
    static let binary = "/usr/bin/prometheus-alertmanager"

    @Test func onceRaisesTheAlertsInAlertmanager() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.binary), "scripts/test.sh installs prometheus-alertmanager")
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let port = 30_000 + Int.random(in: 0..<20_000)
        try sandbox.write("am.yml", "route: {receiver: none}\nreceivers: [{name: none}]\n")
        let alertmanager = Process()
        alertmanager.executableURL = URL(fileURLWithPath: Self.binary)
        alertmanager.arguments = ["--config.file=\(sandbox.path("am.yml"))", "--storage.path=\(sandbox.path("am-data"))",
                                  "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="]
        alertmanager.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        alertmanager.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try alertmanager.run()
        defer { alertmanager.terminate(); alertmanager.waitUntilExit() }
        try await eventually { (try? Sandbox.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/-/ready"]).status) == 0 }

        let config = try sandbox.configuration()
        try sandbox.write("ntmwatch.yaml", try String(contentsOfFile: config, encoding: .utf8)
                          + "alertmanagers:\n  - url: http://127.0.0.1:\(port)\n    resend_interval: 1m\n")
        let once = try Sandbox.run(Self.daemon, ["--config", config, "--once"])
        #expect(once.status == 0, "\(once.output)")
        let listed = try Sandbox.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/api/v2/alerts"]).output
        let alerts = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        let labels = alerts.compactMap { $0["labels"] as? [String: String] }
        #expect(Set(labels.compactMap { $0["subject_id"] }) == ["QNA.TP.TL", "QNA.DL.DC"])
        #expect(labels.allSatisfy { $0["alertname"] == "testcheck.commune_flagged" && $0["instance"] == sandbox.instance })
        let annotations = alerts.compactMap { $0["annotations"] as? [String: String] }
        #expect(annotations.contains { $0["summary"]?.hasPrefix("Xã Tiên Lãnh cần xử lý") == true })
    }
}
