import ArgumentParser
import CSQLite3
import Foundation
import Logging
import NTMDelivery
import NTMStore
import NTMWatchCore
#if canImport(Glibc)
import Glibc
#endif

/// Issue 21's figures from one command, each taken from the real binaries as child processes so
/// that peak memory (the kernel's `ru_maxrss`) is the program's own: per province size, the import
/// (time, rows/s, peak RSS), the first cycle on an empty alert state, the steady cycle of all
/// modules, each module alone, and start to READY with that state. Medians with min and max.
/// Beside each SQLite cycle, alternated with it, the floor: the queries that cycle's store readers
/// issue, replayed on the same file through SQLite's C API without ntmwatch (every row stepped,
/// every column read), and the ratio cycle/floor.
struct ScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Import, cycle and start-up figures of synthetic provinces of several sizes (release build).")

    @Option(parsing: .upToNextOption, help: "Province sizes in communes.") var communes: [Int] = [200, 10_000]
    @Flag(help: "Also the large size: 10,000 communes with 10 villages and 20 projects each, 2016-2025.") var large = false
    @Option(help: "Steady cycles per configuration.") var runs = 3
    @Option(help: "Also run the full cycle on this PostgreSQL server (a fresh database per size).") var postgres: String?

    static let modules = ["deadline", "satisfaction", "debt", "disbursement", "standards", "targets"]

    struct Size {
        let communes: Int, villages: Int, projects: Int, years: ClosedRange<Int>
        var label: String { "\(communes) communes, \(villages) villages and \(projects) projects each, \(years.lowerBound)-\(years.upperBound)" }
    }

    func run() async throws {
        var sizes = communes.map { Size(communes: $0, villages: 4, projects: 2, years: 2023...2025) }
        if large { sizes.append(Size(communes: 10_000, villages: 10, projects: 20, years: 2016...2025)) }
        let root = try Paths.scratch("scale")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let libraries = Self.modules.map { "libntmwatch-\($0).so" }
        let modules = try Paths.installModules(libraries, under: root)
        print("size\tfigure\tmedian\tmin\tmax\tpeak RSS MiB")
        for size in sizes {
            let folder = (root as NSString).appendingPathComponent("size-\(size.communes)-\(size.villages)")
            let seed = (folder as NSString).appendingPathComponent("seed")
            try SyntheticProvince(communes: size.communes, villagesPerCommune: size.villages, projectsPerCommune: size.projects,
                                  years: size.years).write(to: seed, catalogueFrom: Paths.sample)
            print("# \(size.label)")
            let tag = "\(size.communes)/\(size.villages)/\(size.projects)"

            // Import: the operator's command on a new store.
            let store = (folder as NSString).appendingPathComponent("store.sqlite")
            let config = try writeConfig(folder: folder, name: "all", store: "sqlite: \(store)", modules: modules, checks: Self.modules)
            _ = try Child.run(tool("ntmwatch"), ["migrate", "--config", config])
            let imported = try Child.run(tool("ntmwatch"), ["import", "--lang", "en", "--config", config, "folder", seed])
            // "FILE: N added, M updated, K unchanged" per file.
            let rows = imported.output.split(separator: "\n").compactMap { line -> Int? in
                line.split(separator: ":").last?.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.first
            }.reduce(0, +)
            print("\(tag)\timport (\(rows) rows)\t\(format(imported.seconds)) s\t\t\t\(mib(imported.maxRSS))")
            if imported.seconds > 0 { print("\(tag)\timport rate\t\(Int(Double(rows) / imported.seconds)) rows/s") }

            try await cycles(tag: tag, folder: folder, name: "all", store: "sqlite: \(store)", modules: modules, checks: Self.modules, size: size)
            for module in Self.modules {
                try await cycles(tag: tag, folder: folder, name: module, store: "sqlite: \(store)", modules: modules, checks: [module], size: size, firstToo: false)
            }
            if let postgres {
                let url = try await ScratchStore.database(postgres)
                let pgConfig = try writeConfig(folder: folder, name: "pg", store: "postgres: \"\(url)\"", modules: modules, checks: Self.modules)
                _ = try Child.run(tool("ntmwatch"), ["migrate", "--config", pgConfig])
                _ = try Child.run(tool("ntmwatch"), ["import", "--config", pgConfig, "folder", seed])
                try await cycles(tag: tag + " pg", folder: folder, name: "pg", store: "postgres: \"\(url)\"", modules: modules, checks: Self.modules, size: size)
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    func tool(_ name: String) -> String { (Paths.products as NSString).appendingPathComponent(name) }

    func writeConfig(folder: String, name: String, store: String, modules: String, checks: [String], port: Int? = nil) throws -> String {
        let state = (folder as NSString).appendingPathComponent("state-\(name)")
        let path = (folder as NSString).appendingPathComponent("\(name).yaml")
        try """
            instance: bench
            state_directory: \(state)
            store: {\(store), query_timeout: 600s}
            modules: {directories: [\(modules)]}
            scheduler: {default_timeout: 600s, default_interval: 1h}
            journald: false
            checks: [\(checks.map { "{module: \($0)}" }.joined(separator: ", "))]
            delivery: {group_wait: 0s, group_interval: 0s}
            receivers: [{name: r, directory: \(folder)/spool-\(name), max_spool_bytes: 10MB}]
            route: {receiver: r}
            \(port.map { "http: {listen: \"127.0.0.1:\($0)\"}" } ?? "")
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The first cycle on an empty alert state, then `runs` steady cycles (the same instant, so
    /// the alert state does not change), then the time to READY=1 with that state.
    func cycles(tag: String, folder: String, name: String, store: String, modules: String, checks: [String], size: Size,
                firstToo: Bool = true) async throws {
        let config = try writeConfig(folder: folder, name: name, store: store, modules: modules, checks: checks)
        let at = "\(size.years.upperBound)-11-12"
        try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("state-\(name)"))
        let first = try Child.run(tool("ntmwatchd"), ["--config", config, "--once", "--at", at, "--log-level", "error"])
        if firstToo { print("\(tag)\t\(name): first cycle, empty state\t\(format(first.seconds)) s\t\t\t\(mib(first.maxRSS))") }
        if firstToo {
            let state = (folder as NSString).appendingPathComponent("state-\(name)/alerts.sqlite")
            let (count, digest) = try Floor.alertDigest(state)
            print("\(tag)\t\(name): alerts after the first cycle\t\(count)\tdigest \(digest)")
        }
        let queries = try await Floor.queries(config: config, at: at)
        let distinct = queries.reduce(into: [QueryLog.Query]()) { if !$0.contains($1) { $0.append($1) } }
        var times: [Double] = [], peaks: [Int] = [], floors: [Double] = [], distinctFloors: [Double] = []
        for _ in 0..<runs {
            let steady = try Child.run(tool("ntmwatchd"), ["--config", config, "--once", "--at", at, "--log-level", "error"])
            times.append(steady.seconds)
            peaks.append(steady.maxRSS)
            if let path = store.sqlitePath {
                floors.append(try Floor.replay(queries, on: path))
                distinctFloors.append(try Floor.replay(distinct, on: path))
            }
        }
        let stats = Statistics(values: times)
        print("\(tag)\t\(name): steady cycle\t\(format(stats.median)) s\t\(format(times.min()!))\t\(format(times.max()!))\t\(mib(peaks.max()!))")
        if !floors.isEmpty {
            let floor = Statistics(values: floors), once = Statistics(values: distinctFloors)
            print("\(tag)\t\(name): floor, the \(queries.count) queries issued\t\(format(floor.median)) s\t\(format(floors.min()!))\t\(format(floors.max()!))")
            print("\(tag)\t\(name): floor, the \(distinct.count) distinct queries\t\(format(once.median)) s\t\(format(distinctFloors.min()!))\t\(format(distinctFloors.max()!))")
            print("\(tag)\t\(name): cycle/floor\t\(String(format: "%.1f", stats.median / floor.median)) (distinct: \(String(format: "%.1f", stats.median / once.median)))")
        }
        if firstToo {
            let ready = try Child.timeToReady(tool("ntmwatchd"), ["--config", config, "--log-level", "error"], folder: folder)
            print("\(tag)\t\(name): start to READY=1\t\(format(ready * 1000)) ms")
            try await rssAfterDaemonCycle(tag: tag, folder: folder, name: name, store: store, modules: modules, checks: checks)
        }
    }

    /// The running daemon's memory after its first cycle (as of today, on an empty state): 2 s
    /// after `/readyz` answers (its checks' results recorded; their notifications may still be
    /// being sent), 12 s after its deliveries ended (the daemon trims at most every ten seconds,
    /// on a one-second tick), and a minute after the first reading (at least a minute after the
    /// deliveries' end).
    func rssAfterDaemonCycle(tag: String, folder: String, name: String, store: String, modules: String, checks: [String]) async throws {
        let port = 20_000 + Int.random(in: 0..<20_000)
        let config = try writeConfig(folder: folder, name: "\(name)-daemon", store: store, modules: modules, checks: checks, port: port)
        try await Child.serve(tool("ntmwatchd"), config, port: port, readyWithin: .seconds(1800)) { pid in
            let first = ContinuousClock.now
            print("\(tag)\t\(name): daemon RSS after its first cycle\t\(mib(try Child.rss(pid))) MiB")
            let ended = try await Child.deliveriesEnded(port: port, within: .seconds(1800))
            try await Task.sleep(until: ended + .seconds(12))
            print("\(tag)\t\(name): daemon RSS 12 s after its deliveries ended (\(format(seconds(ended - first))) s after the reading above)\t\(mib(try Child.rss(pid))) MiB")
            try await Task.sleep(until: max(first + .seconds(65), ended + .seconds(72)))
            print("\(tag)\t\(name): daemon RSS a minute later\t\(mib(try Child.rss(pid))) MiB")
        }
    }

    func format(_ value: Double) -> String { String(format: "%.3f", value) }
    func mib(_ kib: Int) -> String { String(format: "%.1f", Double(kib) / 1024) }
}

extension String {
    /// The file of a `sqlite: PATH` store setting; nil for PostgreSQL.
    var sqlitePath: String? { hasPrefix("sqlite: ") ? String(dropFirst("sqlite: ".count)) : nil }
}

/// What the store itself costs: the queries a cycle issues, run without ntmwatch.
enum Floor {
    /// The queries the readers of one cycle issue (its labeller's and its checks'), captured by
    /// evaluating in this process with a query log on the store.
    static func queries(config: String, at: String) async throws -> [QueryLog.Query] {
        var logger = Logger(label: "bench.floor")
        logger.logLevel = .critical
        let log = QueryLog()
        let evaluator = try await Evaluator.open(try ConfigLoader.load(path: config), logger: logger, queryLog: log)
        guard let instant = InstantText.parse(at) else { throw ValidationError("\(at) is not an instant") }
        _ = try await evaluator.evaluate(at: instant)
        return log.queries
    }

    /// The alert state's alerts as a count and a digest of their fingerprints, statuses and checks:
    /// equal before and after a change when the change leaves every alert as it was.
    static func alertDigest(_ path: String) throws -> (Int, String) {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else { throw ValidationError("cannot open \(path)") }
        defer { sqlite3_close_v2(db) }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "SELECT fingerprint, status, check_name FROM alerts ORDER BY fingerprint", -1, &statement, nil) == SQLITE_OK,
              let statement else { throw ValidationError("\(path): \(String(cString: sqlite3_errmsg(db)))") }
        defer { sqlite3_finalize(statement) }
        // FNV-1a over the rows' text.
        var hash: UInt64 = 0xcbf29ce484222325, count = 0
        while sqlite3_step(statement) == SQLITE_ROW {
            count += 1
            for column in 0..<3 {
                for byte in String(cString: sqlite3_column_text(statement, Int32(column))).utf8 + [0] {
                    hash = (hash ^ UInt64(byte)) &* 0x100000001b3
                }
            }
        }
        return (count, String(hash, radix: 16))
    }

    /// Seconds to run `queries` in one read transaction on the SQLite file at `path`, stepping
    /// every row and reading every column in its stored type, as a C program would.
    static func replay(_ queries: [QueryLog.Query], on path: String) throws -> Double {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
            throw ValidationError("cannot open \(path)")
        }
        defer { sqlite3_close_v2(db) }
        func fail(_ what: String) -> Error { ValidationError("\(what): \(String(cString: sqlite3_errmsg(db)))") }
        let start = ContinuousClock.now
        guard sqlite3_exec(db, "BEGIN", nil, nil, nil) == SQLITE_OK else { throw fail("BEGIN") }
        var touched = 0
        for query in queries {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(db, query.sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw fail(query.sql) }
            defer { sqlite3_finalize(statement) }
            for (index, parameter) in query.parameters.enumerated() {
                sqlite3_bind_text(statement, Int32(index + 1), parameter, -1, ntmsqlite_transient())
            }
            let columns = sqlite3_column_count(statement)
            var result = sqlite3_step(statement)
            while result == SQLITE_ROW {
                for column in 0..<columns {
                    switch sqlite3_column_type(statement, column) {
                    case SQLITE_INTEGER: touched &+= Int(truncatingIfNeeded: sqlite3_column_int64(statement, column))
                    case SQLITE_FLOAT: touched &+= Int(sqlite3_column_double(statement, column))
                    case SQLITE_TEXT: touched &+= Int(sqlite3_column_bytes(statement, column)) &+ Int(sqlite3_column_text(statement, column)!.pointee)
                    default: break
                    }
                }
                result = sqlite3_step(statement)
            }
            guard result == SQLITE_DONE else { throw fail(query.sql) }
        }
        sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        let elapsed = seconds(ContinuousClock.now - start)
        // Keeps the reads from being optimised away.
        if touched == 42 { print("", terminator: "") }
        return elapsed
    }
}

/// A child process measured by the kernel: wall time and peak resident memory.
///
/// The program runs under `ntmwatch-bench measure-child`, a fresh small process: Linux carries a
/// parent's RSS high-water mark into a spawned child's `ru_maxrss` (a 500 MiB process spawning
/// `/usr/bin/true` reads 508 MiB), so a bench that had held a generated province read its own
/// size as the import's peak (819 MiB at the large size where the import's own was 136).
enum Child {
    struct Result { let status: Int32; let seconds: Double; let maxRSS: Int; let output: String }

    struct Failed: Error, CustomStringConvertible {
        let command: String, status: Int32, output: String
        var description: String { "\(command) exited with \(status): \(output.suffix(2000))" }
    }

    static func run(_ program: String, _ arguments: [String]) throws -> Result {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).out").path
        let report = output + ".measure"
        defer { unlink(output); unlink(report) }
        let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let measured = try spawnAndWait("/proc/self/exe", ["ntmwatch-bench", "measure-child", "--report", report, "--", program] + arguments,
                                        output: fd)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let figures = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: " ")
        guard measured.code == 0, figures.count == 2, let seconds = Double(figures[0]), let maxRSS = Int(figures[1]) else {
            throw Failed(command: ([program] + arguments).joined(separator: " "), status: measured.code, output: text)
        }
        return Result(status: 0, seconds: seconds, maxRSS: maxRSS, output: text)
    }

    /// Spawns `program` (stdout and stderr to `output` when given) and waits: its exit code (128 +
    /// the signal when killed), wall time and the kernel's peak RSS in KiB.
    static func spawnAndWait(_ program: String, _ arguments: [String], output: Int32? = nil) throws -> (code: Int32, seconds: Double, maxRSS: Int) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = ContinuousClock.now
        guard posix_spawn(&pid, program, &actions, nil, argv, environ) == 0 else {
            throw Failed(command: program, status: -1, output: "cannot start it")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let elapsed = seconds(ContinuousClock.now - start)
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, elapsed, usage.ru_maxrss)
    }

    /// Seconds from spawning the daemon to its READY=1 on a notify socket of our own.
    /// Runs the daemon until `body` is done, once it answers /readyz (every check has run).
    static func serve(_ daemon: String, _ config: String, port: Int, readyWithin limit: Duration = .seconds(300),
                      _ body: (Int32) async throws -> Void) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["--config", config, "--log-level", "error"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let start = ContinuousClock.now
        while (try? Child.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/readyz"])) == nil {
            guard ContinuousClock.now - start < limit, process.isRunning else { throw ValidationError("ntmwatchd did not become ready") }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Let start-up allocations settle before measuring.
        try await Task.sleep(for: .seconds(2))
        try await body(process.processIdentifier)
    }

    /// When the daemon's deliveries ended: its /metrics shows an empty delivery ledger and the
    /// notifications it has handled stay the same for three seconds. The daemon sets the ledger
    /// gauge as it records a run's notifications (before `/readyz` counts the run) and at the
    /// end of each flush, so after `/readyz` an empty ledger is one a flush left empty; the three
    /// seconds guard against reading between a flush's sending and its gauge.
    static func deliveriesEnded(port: Int, within limit: Duration) async throws -> ContinuousClock.Instant {
        let start = ContinuousClock.now
        var steady: (handled: Double, since: ContinuousClock.Instant)?
        while ContinuousClock.now - start < limit {
            let metrics = (try? Child.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/metrics"]))?.output ?? ""
            var pending: Double?, handled = 0.0
            for line in metrics.split(separator: "\n") {
                // Prometheus' text format: `name{labels} value`; the registry writes gauges as 0.0.
                let value = line.split(separator: " ").last.flatMap { Double($0) }
                if line.hasPrefix("ntmwatch_ledger_pending ") { pending = value }
                if line.hasPrefix("ntmwatch_notifications_total{") { handled += value ?? 0 }
            }
            if pending == 0, let known = steady, known.handled == handled {
                if ContinuousClock.now - known.since >= .seconds(3) { return known.since }
            } else {
                steady = pending == 0 ? (handled, .now) : nil
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw ValidationError("the daemon's deliveries did not end")
    }

    /// The process's resident set now, in KiB.
    static func rss(_ pid: Int32) throws -> Int { try kilobytes("VmRSS:", in: "/proc/\(pid)/status") }

    /// Pages the process shares unchanged with others (kB, `Shared_Clean` of `smaps_rollup`).
    static func sharedClean(_ pid: Int32) throws -> Int { try kilobytes("Shared_Clean:", in: "/proc/\(pid)/smaps_rollup") }

    /// The kB of a "Name: value kB" line of a small `/proc` file (under a page: read whole); 0 without it.
    static func kilobytes(_ name: String, in path: String) throws -> Int {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func timeToReady(_ program: String, _ arguments: [String], folder: String) throws -> Double {
        // A socket path has at most 107 bytes; the bench's scratch folder is deeper than that.
        let socketPath = "/tmp/ntmwatch-bench-\(getpid()).sock"
        unlink(socketPath)
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor); unlink(socketPath) }
        let bound = Journal.withUnixAddress(socketPath) { bind(descriptor, $0, $1) }
        guard bound == 0 else { throw Failed(command: "bind \(socketPath)", status: errno, output: "") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = socketPath
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        let start = ContinuousClock.now
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now - start < .seconds(120) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0, String(decoding: buffer[..<count], as: UTF8.self).contains("READY=1") {
                return seconds(ContinuousClock.now - start)
            }
        }
        throw Failed(command: program, status: -1, output: "no READY=1 within 120 s")
    }
}

/// Runs a program and writes its wall time and peak RSS (KiB) to `--report`: see ``Child``.
struct MeasureChild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure-child", abstract: "Run a program; report its wall time and peak RSS (the scale bench's measuring parent).",
        shouldDisplay: false)

    @Option(help: "Where to write \"SECONDS MAXRSS_KIB\".") var report: String
    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments.") var command: [String]

    func run() throws {
        let command = command.first == "--" ? Array(command.dropFirst()) : command
        guard let program = command.first else { throw ValidationError("give the program to run") }
        let measured = try Child.spawnAndWait(program, command)
        try "\(measured.seconds) \(measured.maxRSS)".write(toFile: report, atomically: true, encoding: .utf8)
        if measured.code != 0 { throw ExitCode(measured.code) }
    }
}
