import Foundation
import Logging
import Testing
@testable import NTMDelivery
@testable import NTMWatchCore
@testable import NTMAlerting
#if canImport(Glibc)
import Glibc
#endif

/// Debian's Alertmanager on loopback with clustering off, routing to the flaky receiver (told to
/// behave) as its webhook: ntmwatch pushes, the test reads back through the API and amtool.
@Suite(.serialized) struct AlertmanagerSyncTests {
    static let binary = "/usr/bin/prometheus-alertmanager"

    struct RunningAlertmanager {
        let peer: PeerProcess
        let url: URL
    }

    func startAlertmanager(folder: String, webhook: URL) async throws -> RunningAlertmanager {
        let port = try freePort()
        let config = (folder as NSString).appendingPathComponent("alertmanager.yml")
        try """
            route:
              receiver: test
              group_by: [alertname]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: test
                webhook_configs:
                  - url: \(webhook.absoluteString)
                    send_resolved: true
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let peer = try PeerProcess(Self.binary, [
            "--config.file=\(config)", "--storage.path=\(folder)/am-data", "--web.listen-address=127.0.0.1:\(port)",
            "--cluster.listen-address=",
        ], log: (folder as NSString).appendingPathComponent("alertmanager.log"))
        let url = URL(string: "http://127.0.0.1:\(port)")!
        try await eventually(within: .seconds(20), peer.log) {
            (try? Scratch.run("/usr/bin/curl", ["-sf", "\(url.absoluteString)/-/ready"]).status) == 0
        }
        return RunningAlertmanager(peer: peer, url: url)
    }

    /// Alertmanager's active alerts, as its API v2 lists them.
    func apiAlerts(_ url: URL) throws -> [[String: Any]] {
        let result = try Scratch.run("/usr/bin/curl", ["-sf", "\(url.absoluteString)/api/v2/alerts"])
        return (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]) ?? []
    }

    @Test func pushedAlertsStayFiringWhileResentAndEndWhenResolved() async throws {
        try #require(FileManager.default.fileExists(atPath: Self.binary), "scripts/test.sh installs prometheus-alertmanager")
        let folder = try Scratch.folder()
        let webhook = try await FlakyReceiver(folder: folder, arguments: ["--keep-bodies"])
        defer { webhook.stop() }
        let alertmanager = try await startAlertmanager(folder: folder, webhook: webhook.url)
        defer { alertmanager.peer.stop() }

        let client = HTTPWebhookNotifierTests.client
        let sync = AlertmanagerSync(
            endpoints: [.init(url: alertmanager.url, timeout: .seconds(5), resendInterval: .seconds(2))],
            client: client, language: .vi, externalURL: "http://ntmwatch.example.vn", logger: Logger(label: "test"))
        let resending = Task { try await sync.run() }
        defer { resending.cancel() }

        let now = Date()
        let a = Fixtures.alert("QNA.TP.TL", at: now), b = Fixtures.alert("QNA.TP.TC", at: now)
        var pending = Fixtures.alert("QNA.DL.DC", at: now)
        pending.status = .pending
        await sync.update(active: [a, b, pending], resolved: [], at: now)

        var alerts = try apiAlerts(alertmanager.url)
        #expect(Set(alerts.compactMap { ($0["labels"] as? [String: String])?["subject_id"] }) == ["QNA.TP.TL", "QNA.TP.TC"])
        let first = try #require(alerts.first { ($0["labels"] as? [String: String])?["subject_id"] == "QNA.TP.TL" })
        let labels = try #require(first["labels"] as? [String: String])
        #expect(labels["alertname"] == "deadline.overdue" && labels["severity"] == "warning" && labels["district"] == "QNA.TP")
        let annotations = try #require(first["annotations"] as? [String: String])
        #expect(annotations["summary"] == "Tiên Lãnh: quá hạn 7 ngày" && annotations["summary_en"] == "Tiên Lãnh: 7 days overdue")
        #expect(annotations["days_overdue"] == "7")
        #expect(annotations["source"] == "002 §V")                    // the rule's document and section
        #expect(first["generatorURL"] as? String == "http://ntmwatch.example.vn")

        let amtool = try Scratch.run("/usr/bin/amtool", ["alert", "query", "--alertmanager.url=\(alertmanager.url.absoluteString)",
                                                         "-o", "json", "subject_id=QNA.TP.TL"])
        #expect(amtool.status == 0 && amtool.output.contains("deadline.overdue"), "\(amtool.output)")

        // endsAt is four resend intervals (8 s) ahead: only the re-sends keep the alerts firing past
        // it. Past it, Alertmanager holds both again at the latest after the next re-send: without
        // re-sends they would stay gone. (A look right at 10 s failed when the whole suite, on two
        // cores, held the re-send task past the 8 s.)
        try await Task.sleep(for: .seconds(10))
        try await eventually(within: .seconds(30), alertmanager.peer.log) {
            alerts = try apiAlerts(alertmanager.url)
            return alerts.count == 2
        }
        try await eventually(within: .seconds(30), alertmanager.peer.log) {
            try webhook.bodies().contains { $0.status == "firing" && $0.alerts.count == 2 }
        }

        let resolvedAt = Date()
        var ended = a
        ended.status = .resolved
        ended.resolvedAt = resolvedAt
        await sync.update(active: [b], resolved: [ended], at: resolvedAt)
        // The resolved one ends at once; the other is firing as of its last re-send. On a loaded
        // machine (the whole suite at once) a re-send came more than its 8 s late, so the other
        // had lapsed until the next: what is asserted is where the re-sends leave Alertmanager.
        try await eventually(within: .seconds(30), alertmanager.peer.log) {
            try apiAlerts(alertmanager.url).compactMap { ($0["labels"] as? [String: String])?["subject_id"] } == ["QNA.TP.TC"]
        }
        try await eventually(within: .seconds(30), alertmanager.peer.log) {
            try webhook.bodies().contains { body in
                body.alerts.contains { $0.status == "resolved" && $0.labels["subject_id"] == "QNA.TP.TL" }
            }
        }
        resending.cancel()
        _ = try? await resending.value
    }

    func freePort() throws -> Int {
        let result = try Scratch.run("/usr/bin/python3", ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
        return Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines))!
    }
}

extension FlakyReceiver {
    /// The part of Alertmanager's webhook body the test reads (it has no `notificationIDs`).
    struct AlertmanagerBody: Decodable {
        struct Alert: Decodable { let status: String; let labels: [String: String] }
        let status: String
        let alerts: [Alert]
    }

    /// The webhook bodies it accepted (it runs with --keep-bodies).
    func bodies() throws -> [AlertmanagerBody] {
        let result = try Scratch.run("/usr/bin/curl", ["-sk", "\(scheme)://127.0.0.1:\(port)/counts"])
        struct Kept: Decodable { let bodies: [AlertmanagerBody] }
        return try JSONDecoder().decode(Kept.self, from: Data(result.output.utf8)).bodies
    }
}

/// Waits until `condition` holds, failing with the peer's log after `limit`.
func eventually(within limit: Duration, _ log: () -> String, _ condition: () throws -> Bool,
                sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    Issue.record("condition not met within \(limit); peer log:\n\(log().suffix(2000))", sourceLocation: sourceLocation)
    throw CancellationError()
}
