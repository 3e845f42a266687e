import ArgumentParser
import Foundation
import NTMAlertingTestSupport
import NTMStore
#if canImport(Glibc)
import Glibc
#endif

/// Delivery under crashes: `ntmwatchd` with a one-second check against a store that changes between
/// kills, two receivers (a spool folder and the flaky HTTP receiver of `Tests/Peers`), SIGKILLed at
/// random moments, then started once more to drain. Every notification the state database recorded
/// must reach each receiver exactly once, and no file may be torn or left behind.
struct FaultsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults", abstract: "SIGKILL the daemon at random moments; count lost, duplicated and corrupt deliveries.")

    @Option(help: "How many times the daemon is killed.") var kills = 100
    @Option(help: "Stop killing after this many seconds, whatever --kills says.") var seconds = 600
    @Option(help: "Longest a run lives before its kill, in milliseconds.") var maxLifeMs = 2500
    @Option(help: "Seconds the final run may take to drain the ledger.") var drainSeconds = 90
    @Option(help: "Random seed (kill moments, store changes, the receiver's faults).") var seed: UInt64 = 14
    @Option(help: "Share of HTTP answers that are 500 / 429 / hangs.") var faultShare = 0.1
    @Flag(help: "Keep the scratch folder and print its path.") var keep = false

    struct Report: Sendable, Equatable {
        var kills = 0
        var recorded = 0
        var delivered: [String: Int] = [:]
        var lost: [String: Int] = [:]
        var duplicated: [String: Int] = [:]
        /// Requests the idempotent HTTP receiver answered without taking them again: a batch sent
        /// again after a kill or a lost answer, with its first Idempotency-Key.
        var replays = 0
        var corruptFiles = 0
        var leftoverTemporaryFiles = 0
        var badSignatures = 0
        var undelivered = 0

        var clean: Bool {
            lost.values.allSatisfy { $0 == 0 } && duplicated.values.allSatisfy { $0 == 0 } && corruptFiles == 0
                && leftoverTemporaryFiles == 0 && badSignatures == 0
        }

        var text: String {
            var lines = ["kills\t\(kills)", "notifications recorded\t\(recorded)"]
            for receiver in delivered.keys.sorted() {
                lines.append("\(receiver): delivered \(delivered[receiver]!), lost \(lost[receiver] ?? 0), duplicated \(duplicated[receiver] ?? 0)")
            }
            lines += ["replays answered by Idempotency-Key\t\(replays)", "corrupt files\t\(corruptFiles)", "leftover temporary files\t\(leftoverTemporaryFiles)",
                      "bad signatures\t\(badSignatures)", "still pending after the drain\t\(undelivered)"]
            return lines.joined(separator: "\n")
        }
    }

    func run() async throws {
        let report = try await Self.measure(kills: kills, seconds: seconds, maxLife: .milliseconds(maxLifeMs),
                                            drain: .seconds(drainSeconds), seed: seed, faultShare: faultShare, keep: keep)
        print(report.text)
        if !report.clean { throw ExitCode(1) }
    }
}

extension FaultsBench {
    static let receivers = (files: "files", http: "http")

    static func measure(kills: Int, seconds: Int, maxLife: Duration, drain: Duration, seed: UInt64, faultShare: Double,
                        keep: Bool) async throws -> Report {
        var random = SplitMix(seed: seed)
        let root = try Paths.scratch("faults")
        defer {
            if keep { print("scratch folder: \(root)") } else { try? FileManager.default.removeItem(atPath: root) }
        }
        func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
        let modules = path("modules")
        try FileManager.default.createDirectory(atPath: modules, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // One SQL rule whose findings are the communes the bench marks `mountain`: flipping regions
        // between kills fires and resolves alerts, so every run has notifications to deliver.
        try """
            name: faults
            title: {vi: "Xã miền núi (thử lỗi)", en: "Mountain commune (fault benchmark)"}
            interval: 1s
            timeout: 10s
            rule: mountain
            severity: warning
            query: SELECT id AS unit_id, name AS unit_name FROM units WHERE level = 'commune' AND region = 'mountain'
            subject: {kind: unit, id: unit_id, name: unit_name, unit: unit_id}
            message: {vi: "{subject}: xã miền núi", en: "{subject}: mountain commune"}
            """.write(toFile: (modules as NSString).appendingPathComponent("faults.sql.yaml"), atomically: true, encoding: .utf8)
        let secret = path("hook.key")
        try "bench-\(random.next())\n".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)

        let receiver = try PeerServer.start(
            "/usr/bin/python3",
            ["\(Paths.repository)/Tests/Peers/flaky_receiver.py", "--secret-file", secret, "--seed", "\(seed)",
             "--fail", "\(faultShare)", "--throttle", "\(faultShare / 2)", "--retry-after", "1",
             "--hang-before", "\(faultShare / 4)", "--hang-after", "\(faultShare / 4)",
             "--take-then-hang", "\(faultShare / 4)", "--hang-seconds", "3"],
            log: path("receiver.log"))
        defer { receiver.stop() }
        let port = try await receiver.firstLine()

        let config = path("ntmwatch.yaml")
        try """
            instance: bench-faults
            state_directory: \(path("state"))
            store: {sqlite: \(path("store.sqlite")), seed_from: \(Paths.sample)}
            modules: {directories: [\(modules)]}
            scheduler: {default_interval: 1s, default_timeout: 10s}
            journald: false
            checks: []
            delivery: {group_wait: 0s, group_interval: 1s, retry_initial: 1s, retry_max: 2s}
            receivers:
              - {name: \(receivers.files), directory: \(path("spool"))}
              - name: \(receivers.http)
                http: {url: "http://127.0.0.1:\(port)/hook", secret_file: \(secret), timeout: 2s}
            route:
              receiver: \(receivers.files)
              group_by: [check, rule]
              routes: [{receiver: \(receivers.files), continue: true}, {receiver: \(receivers.http)}]
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let daemon = (Paths.products as NSString).appendingPathComponent("ntmwatchd")
        guard FileManager.default.isExecutableFile(atPath: daemon) else {
            throw ValidationError("\(daemon) is missing: build it first (swift build)")
        }
        let store = Store(location: .sqlite(path: path("store.sqlite")))
        var report = Report()
        let clock = ContinuousClock()
        let stopKilling = clock.now + .seconds(seconds)
        var life = 0
        while report.kills < kills && clock.now < stopKilling {
            if FileManager.default.fileExists(atPath: path("store.sqlite")) {
                try await flipRegions(store, using: &random)
            }
            let process = try PeerServer.start(daemon, ["--config", config, "--log-level", "warning"], log: path("daemon-\(life).log"))
            // The first life seeds the store; the later ones die anywhere in a cycle.
            let lifetime: Duration = life == 0 ? .seconds(4) : .milliseconds(Int64.random(in: 50...max(51, maxLife.milliseconds), using: &random))
            try await Task.sleep(for: lifetime)
            process.kill(SIGKILL)
            life += 1
            report.kills += 1
        }

        // The drain: one run that is not killed, until the ledger has nothing left to deliver.
        let last = try PeerServer.start(daemon, ["--config", config, "--log-level", "warning"], log: path("daemon-drain.log"))
        let drainEnd = clock.now + drain
        try await Task.sleep(for: .seconds(3))
        while clock.now < drainEnd, try await Ledger.pending(statePath: path("state/alerts.sqlite")) > 0 {
            try await Task.sleep(for: .milliseconds(500))
        }
        // SIGKILL, not SIGTERM: a child started here inherits a signal mask that blocks SIGTERM,
        // and with the ledger empty a kill loses nothing.
        last.kill(SIGKILL)

        let recorded = try await Ledger.recorded(statePath: path("state/alerts.sqlite"))
        report.recorded = recorded.count
        report.undelivered = try await Ledger.pending(statePath: path("state/alerts.sqlite"))
        let spool = try SpoolCount(folder: path("spool"))
        report.corruptFiles = spool.corrupt
        report.leftoverTemporaryFiles = spool.temporary
        let http = try HTTPCount(port: port)
        report.badSignatures = http.badSignatures
        report.replays = http.replays
        for (name, ids) in [(receivers.files, spool.ids), (receivers.http, http.ids)] {
            report.delivered[name] = ids.count
            report.lost[name] = (recorded.byReceiver[name] ?? []).filter { ids[$0] == nil }.count
            report.duplicated[name] = ids.values.filter { $0 > 1 }.reduce(0) { $0 + $1 - 1 }
        }
        return report
    }

    /// Makes a random fifth of the communes mountain communes and the rest plains, while the
    /// daemon is dead: the next run finds new alerts and resolves others.
    static func flipRegions(_ store: Store, using random: inout SplitMix) async throws {
        let communes = try await store.withConnection(.readOnly) {
            try await $0.sql.raw("SELECT id FROM units WHERE level = 'commune' ORDER BY id").all().map { try $0.decode(column: "id", as: String.self) }
        }
        let mountain = communes.filter { _ in random.next() % 5 == 0 }
        let list = mountain.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ",")
        try await store.withConnection(.readWrite) { connection in
            try await connection.sql.raw("""
                UPDATE units SET region = CASE WHEN id IN (\(unsafeRaw: list.isEmpty ? "NULL" : list)) THEN 'mountain' ELSE 'plains' END
                WHERE level = 'commune'
                """).run()
        }
    }
}

/// The webhook files of the spool folder: notification ids (how often each was written), files that
/// are not whole JSON, and temporary files left by a write that died.
struct SpoolCount {
    var ids: [String: Int] = [:]
    var corrupt = 0
    var temporary = 0

    init(folder: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            if name.hasPrefix(".") && name.hasSuffix(".tmp") { temporary += 1; continue }
            guard name.hasSuffix(".json") else { continue }
            guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)),
                  let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let notificationIDs = body["notificationIDs"] as? [String] else {
                corrupt += 1
                continue
            }
            for id in notificationIDs { ids[id, default: 0] += 1 }
        }
    }
}

/// What the flaky receiver accepted.
struct HTTPCount {
    var ids: [String: Int]
    var badSignatures: Int
    var replays: Int

    init(port: String) throws {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-counts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        curl.arguments = ["-sf", "-o", file, "http://127.0.0.1:\(port)/counts"]
        try curl.run()
        curl.waitUntilExit()
        let data = FileManager.default.contents(atPath: file) ?? Data()
        struct Counts: Decodable { let ids: [String: Int]; let bad_signatures: Int; let replays: Int }
        let counts = try JSONDecoder().decode(Counts.self, from: data)
        ids = counts.ids
        badSignatures = counts.bad_signatures
        replays = counts.replays
    }
}

/// A child process the bench started; stopped by its pid.
final class PeerServer: @unchecked Sendable {
    let process = Process()
    let logPath: String

    static func start(_ program: String, _ arguments: [String], log: String) throws -> PeerServer {
        let server = PeerServer(log: log)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        server.process.executableURL = URL(fileURLWithPath: program)
        server.process.arguments = arguments
        server.process.standardOutput = handle
        server.process.standardError = handle
        try server.process.run()
        return server
    }

    private init(log: String) { logPath = log }

    func firstLine() async throws -> String {
        for _ in 0..<200 {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let end = text.firstIndex(of: "\n") { return String(text[..<end]) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("\(process.executableURL?.path ?? "") did not start; see \(logPath)")
    }

    func kill(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
        process.waitUntilExit()
    }

    func stop() { kill(SIGKILL) }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// What the daemon's state database says should have been delivered.
enum Ledger {
    static func count(_ statePath: String, _ query: String) async throws -> Int {
        guard FileManager.default.fileExists(atPath: statePath) else { return 0 }
        return try await Store(location: .sqlite(path: statePath)).withConnection(.readOnly) {
            try await $0.sql.raw("\(unsafeRaw: query)").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    /// Rows of the ledger not yet acknowledged by their receiver.
    static func pending(statePath: String) async throws -> Int {
        try await count(statePath, "SELECT count(*) AS n FROM deliveries WHERE state <> 'delivered'")
    }

    /// Every notification recorded, and for each receiver the ids routed to it.
    static func recorded(statePath: String) async throws -> (count: Int, byReceiver: [String: Set<String>]) {
        let total = try await count(statePath, "SELECT count(*) AS n FROM notifications")
        let rows = try await Store(location: .sqlite(path: statePath)).withConnection(.readOnly) {
            try await $0.sql.raw("SELECT notification_id, receiver FROM deliveries UNION SELECT notification_id, receiver FROM dead_letters").all()
        }
        var byReceiver: [String: Set<String>] = [:]
        for row in rows {
            byReceiver[try row.decode(column: "receiver", as: String.self), default: []]
                .insert(try row.decode(column: "notification_id", as: String.self))
        }
        return (total, byReceiver)
    }
}
