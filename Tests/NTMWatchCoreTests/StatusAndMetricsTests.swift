import Foundation
import Testing
@testable import NTMWatchCore
#if canImport(Glibc)
import Glibc
#endif

/// The watcher watched: `/metrics` (checked by Prometheus' own promtool), `/healthz`, `/readyz`,
/// `ntmwatch status` as a Monitoring Plugin, and `ntmwatch alerts` sorted and filtered.
@Suite(.serialized) struct StatusAndMetricsTests {
    static let daemon = (Sandbox.products as NSString).appendingPathComponent("ntmwatchd")
    static let tool = (Sandbox.products as NSString).appendingPathComponent("ntmwatch")

    static func get(_ url: String) throws -> (status: Int, body: String) {
        let result = try Sandbox.run("/usr/bin/curl", ["-s", "-o", "-", "-w", "\n%{http_code}", url])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func metricsHealthAndReadinessAreServedAndPromtoolAcceptsThem() async throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let port = 20_000 + Int.random(in: 0..<20_000)
        let config = try sandbox.configuration(checks: "  - module: testcheck\n  - {module: testcheck, name: broken, settings: {mode: throw}}\n")
        try sandbox.write("ntmwatch.yaml", try String(contentsOfFile: config, encoding: .utf8) + "http:\n  listen: 127.0.0.1:\(port)\n")
        let notify = try NotifySocket(path: sandbox.path("notify.sock"))
        let run = try Daemon.launch([Self.daemon, "--config", config], notifySocket: notify.path)
        defer { run.kill() }
        _ = try await notify.next(containing: "READY=1", within: .seconds(60))
        try await eventually { (try? Self.get("http://127.0.0.1:\(port)/readyz").status) == 200 }
        // Ready means every check's results are in the state, not only that every check ran.
        let recorded = try Sandbox.run(Self.tool, ["alerts", "--config", config, "--format", "tsv"]).output
        #expect(recorded.split(separator: "\n").count == 1 + 2 + 1, "\(recorded)")
        #expect(try Self.get("http://127.0.0.1:\(port)/healthz").status == 200)
        try await eventually {
            (try? Self.get("http://127.0.0.1:\(port)/metrics").body.contains("ntmwatch_notifications_total")) == true
        }
        let metrics = try Self.get("http://127.0.0.1:\(port)/metrics").body
        #expect(metrics.contains(#"ntmwatch_check_runs_total{check="testcheck",result="ok"} 1"#))
        #expect(metrics.contains(#"ntmwatch_check_runs_total{check="broken",result="failed"} 1"#))
        #expect(metrics.contains(#"ntmwatch_alerts{state="firing",severity="warning"} 2"#))
        #expect(metrics.contains("ntmwatch_check_duration_seconds_bucket"))
        #expect(metrics.contains(#"ntmwatch_notifications_total{receiver="province",result="delivered"}"#))
        #expect(metrics.contains("ntmwatch_dead_letters 0"))
        try metrics.write(toFile: sandbox.path("metrics.txt"), atomically: true, encoding: .utf8)
        let promtool = try Sandbox.run("/bin/sh", ["-c", "promtool check metrics < \(sandbox.path("metrics.txt"))"])
        #expect(promtool.status == 0, "\(promtool.output)")

        // The watcher as a Monitoring Plugin: a check fails, so WARNING, with perfdata.
        let status = try Sandbox.run(Self.tool, ["status", "--config", config])
        #expect(status.status == 1, "\(status.output)")
        #expect(status.output.hasPrefix("NTMWATCH WARNING - kiểm tra lỗi: broken |"))
        #expect(status.output.contains("firing_warning=2"))
        #expect(status.output.contains("dead_letters=0;;0"))
        run.signal(SIGTERM)
        #expect(await run.waitForExit(within: .seconds(15)) == 0)
    }

    @Test func statusIsCriticalWhenTheDaemonNeverRanAndUnknownWithoutState() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let config = try sandbox.configuration()
        let unknown = try Sandbox.run(Self.tool, ["status", "--config", config, "--lang", "en"])
        #expect(unknown.status == 3 && unknown.output.hasPrefix("NTMWATCH UNKNOWN - no state yet"), "\(unknown.output)")
        #expect(try Sandbox.run(Self.daemon, ["--config", config, "--once", "--at", "2024-10-25"]).status == 0)
        let critical = try Sandbox.run(Self.tool, ["status", "--config", config, "--lang", "en"])
        #expect(critical.status == 2, "\(critical.output)")
        #expect(critical.output.hasPrefix("NTMWATCH CRITICAL - ntmwatchd has never run as a service |"))
        #expect(critical.output.contains("testcheck: ok"))
    }

    @Test func alertsAreSortedFilteredAndFormatted() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let config = try sandbox.configuration(checks: """
              - module: testcheck
              - {module: testcheck, name: plains, settings: {flag_region: plains, severity: critical}}
            """)
        #expect(try Sandbox.run(Self.daemon, ["--config", config, "--once", "--at", "2024-10-25"]).status == 0)
        let tsv = try Sandbox.run(Self.tool, ["alerts", "--config", config, "--format", "tsv"]).output
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(tsv.first?.first == "Trạng thái")
        // Critical first: Tiên Cảnh (plains) before the two mountain communes' warnings.
        #expect(tsv.dropFirst().map { String($0[1]) } == ["critical", "warning", "warning"])
        #expect(tsv[1][3] == "Tiên Cảnh")
        let underDaiLoc = try Sandbox.run(Self.tool, ["alerts", "--config", config, "--parent", "QNA.DL", "--format", "json"]).output
        let decoded = try JSONSerialization.jsonObject(with: Data(underDaiLoc.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 1)
        #expect(decoded?.first?["source"] as? String == "002 §IV.10")     // the rule's document and section
        let evaluated = try Sandbox.run(Self.tool, ["evaluate", "--config", config, "--at", "2024-10-25", "--format", "json"]).output
        let line = try JSONSerialization.jsonObject(with: Data(try #require(evaluated.split(separator: "\n").first).utf8)) as? [String: Any]
        #expect(line?["source"] as? String == "002 §IV.10")
        let severe = try Sandbox.run(Self.tool, ["alerts", "--config", config, "--severity", "error", "--lang", "en"]).output
        #expect(severe.contains("Tiên Cảnh") && !severe.contains("Tiên Lãnh"))
        #expect(severe.hasPrefix("Status"))
    }
}
