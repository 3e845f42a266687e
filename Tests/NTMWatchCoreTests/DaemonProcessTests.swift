import Foundation
import Synchronization
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore
#if canImport(Glibc)
import Glibc
#endif

/// `ntmwatchd` as a separate process, with a real journald and a service-manager notify socket.
@Suite(.serialized) struct DaemonProcessTests {
    static let daemon = (Sandbox.products as NSString).appendingPathComponent("ntmwatchd")

    @Test func oneCycleReachesARealJournaldWithStructuredFields() async throws {
        let journald = try Journald.ensureRunning()
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let config = try sandbox.configuration()

        let run = try Daemon.launch([Self.daemon, "--config", config, "--once", "--at", "2024-10-25"], notifySocket: nil)
        #expect(await run.waitForExit(within: .seconds(30)) == 0, "stderr: \(run.stderr())")

        let entries = try await journald.entries(matching: "NTMWATCH_INSTANCE=\(sandbox.instance)", atLeast: 2)
        let tienLanh = try #require(entries.first { $0["NTMWATCH_SUBJECT_ID"] == "QNA.TP.TL" })
        #expect(tienLanh["MESSAGE"] == "Xã Tiên Lãnh cần xử lý trước ngày 01/11/2024, số tiền 1.234.567.000 đ")
        #expect(tienLanh["PRIORITY"] == "4")
        #expect(tienLanh["SYSLOG_IDENTIFIER"] == "ntmwatchd")
        #expect(tienLanh["MESSAGE_ID"] == "0f6a4a2e1c9b4d3f8e7d6c5b4a392817")
        #expect(tienLanh["NTMWATCH_CHECK"] == "testcheck")
        #expect(tienLanh["NTMWATCH_RULE"] == "testcheck.commune_flagged")
        #expect(tienLanh["NTMWATCH_STATE"] == "firing")
        #expect(tienLanh["NTMWATCH_SEVERITY"] == "warning")
        #expect(tienLanh["NTMWATCH_SUBJECT_NAME"] == "Tiên Lãnh")
        #expect(tienLanh["NTMWATCH_AMOUNT_VND"] == "1234567000")
        #expect(tienLanh["NTMWATCH_DUE_DATE"] == "2024-11-01")
        #expect(tienLanh["NTMWATCH_DISTRICT"] == "QNA.TP")
        #expect(tienLanh["NTMWATCH_FINGERPRINT"]?.count == 16)
        #expect(tienLanh["NTMWATCH_SOURCE"] == "002 §IV.10")            // the rule's document and section
        // The daemon's own log lines travel the same way, through the swift-log backend.
        let logs = try await journald.entries(matching: "SYSLOG_IDENTIFIER=ntmwatchd", atLeast: 1)
        #expect(logs.contains { $0["MESSAGE"]?.hasPrefix("one cycle done") == true })
    }

    @Test func reloadWithABrokenConfigKeepsTheRunningOneAndSIGTERMExitsZero() async throws {
        _ = try Journald.ensureRunning()
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        try sandbox.installModule("libNTMTestCheck.so")
        let config = try sandbox.configuration()
        let notify = try NotifySocket(path: sandbox.path("notify.sock"))
        let run = try Daemon.launch([Self.daemon, "--config", config], notifySocket: notify.path, watchdogMicroseconds: 6_000_000)
        defer { run.kill() }

        let ready = try await notify.next(containing: "READY=1", within: .seconds(60))
        #expect(ready.contains("STATUS="))
        // WatchdogSec=6 in the environment: the daemon pings within it, also while it loads the
        // open alerts. (6 s, not 2: a loaded 2-core CI machine must not be what fails the test.)
        _ = try await notify.next(containing: "WATCHDOG=1", within: .seconds(6))
        // The first cycle runs at once and delivers to the spool.
        try await eventually { try sandbox.webhookFiles("province").count == 1 }

        _ = try sandbox.configuration(interval: "sometimes")
        run.signal(SIGHUP)
        _ = try await notify.next(containing: "RELOADING=1", within: .seconds(10))
        _ = try await notify.next(containing: "READY=1", within: .seconds(60))
        #expect(run.isRunning)
        // The daemon logs to journald when one listens, else to stderr.
        let journal = try Journald.ensureRunning()
        let logged = try await journal.entries(matching: "_PID=\(run.process.processIdentifier)", atLeast: 1)
            .compactMap { $0["MESSAGE"] }.joined(separator: "\n") + run.stderr()
        #expect(logged.contains("reload refused, the running configuration stays"))
        #expect(logged.contains("ntmwatch.yaml:9:"))
        #expect(logged.contains("default_interval"))

        // A good config on the next reload is applied: a second check starts and reports.
        _ = try sandbox.configuration(checks: "  - module: testcheck\n  - module: testcheck\n    name: plains\n    settings: {flag_region: plains}\n")
        run.signal(SIGHUP)
        _ = try await notify.next(containing: "RELOADING=1", within: .seconds(10))
        _ = try await notify.next(containing: "READY=1", within: .seconds(60))
        try await eventually {
            try sandbox.webhookFiles("province").flatMap(\.payload.alerts).contains { $0.labels["check"] == "plains" }
        }

        run.signal(SIGTERM)
        _ = try await notify.next(containing: "STOPPING=1", within: .seconds(10))
        #expect(await run.waitForExit(within: .seconds(15)) == 0, "stderr: \(run.stderr())")
    }
}

/// Polls `condition` until it holds, for up to thirty seconds: generous, because only a failing
/// test waits it out, and a loaded CI machine must not be what fails one.
func eventually(_ condition: () throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("condition not met within 30 s", sourceLocation: sourceLocation)
}

/// A child process with its output captured to files (pipes could fill and block it).
final class Daemon: @unchecked Sendable {
    let process = Process()
    let errorPath: String

    static func launch(_ arguments: [String], notifySocket: String?, watchdogMicroseconds: Int? = nil) throws -> Daemon {
        let daemon = Daemon(arguments: arguments, notifySocket: notifySocket, watchdogMicroseconds: watchdogMicroseconds)
        try daemon.process.run()
        return daemon
    }

    private init(arguments: [String], notifySocket: String?, watchdogMicroseconds: Int?) {
        errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatchd-\(UUID().uuidString).err").path
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notifySocket
        environment.removeValue(forKey: "WATCHDOG_PID")
        environment["WATCHDOG_USEC"] = watchdogMicroseconds.map(String.init)
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: errorPath)
    }

    var isRunning: Bool { process.isRunning }
    func signal(_ signal: Int32) { Glibc.kill(process.processIdentifier, signal) }
    func kill() { if process.isRunning { signal(SIGKILL) } }
    func stderr() -> String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    /// The exit status, or nil when it did not exit in time.
    func waitForExit(within limit: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    deinit { try? FileManager.default.removeItem(atPath: errorPath) }
}

/// The service manager's end of `sd_notify`: a datagram socket the daemon writes its states to.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        let descriptor = self.descriptor
        let bound = Journal.withUnixAddress(path) { bind(descriptor, $0, $1) }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
    }

    /// The next message containing `text`, skipping others (STATUS updates, watchdog pings).
    func next(containing text: String, within limit: Duration) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count > 0 {
                    let message = String(decoding: buffer[..<count], as: UTF8.self)
                    if message.contains(text) { return message }
                }
                continue
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw NotifyTimeout(expected: text)
    }

    struct NotifyTimeout: Error, CustomStringConvertible {
        let expected: String
        var description: String { "no \(expected) from the daemon in time" }
    }

    deinit { close(descriptor); unlink(path) }
}

/// The system's journald, started standalone for the tests when none is running (platform notes).
/// Once started it stays up for the rest of the run, because suites run in parallel and share it;
/// scripts/test.sh starts one before the tests and stops it after.
struct Journald {
    static let shared = Mutex<Bool>(false)

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "journald is not running and this test is not root, so it cannot start one; run scripts/test.sh as root or start journald" }
    }

    static func ensureRunning() throws -> Journald {
        try shared.withLock { _ in
            if Journal.isAvailable { return }
            guard geteuid() == 0 else { throw Unavailable() }
            try FileManager.default.createDirectory(atPath: "/run/systemd/journal", withIntermediateDirectories: true)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/lib/systemd/systemd-journald")
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            for _ in 0..<100 where !Journal.isAvailable { usleep(50_000) }
        }
        return Journald()
    }

    /// Entries matching `match`, read back with `journalctl -o json`, waiting until there are `atLeast`.
    func entries(matching match: String, atLeast count: Int) async throws -> [[String: String]] {
        var entries: [[String: String]] = []
        for _ in 0..<50 {
            // Lines that are not JSON (journalctl's own warnings) are dropped with the rest.
            let output = try Sandbox.run("/usr/bin/journalctl", ["-o", "json", "--no-pager", "--all", match]).output
            entries = output.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }.map { $0.compactMapValues { $0 as? String } }
            if entries.count >= count { return entries }
            try await Task.sleep(for: .milliseconds(100))
        }
        return entries
    }
}
