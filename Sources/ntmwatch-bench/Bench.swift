import ArgumentParser
import CheckKit
import Foundation
import Logging
import NTMStore
import NTMAlerting
import NTMDelivery
import NTMWatchCore

/// The figures the notes report: import time and store size, cycle wall time, idle RSS and CPU.
/// Every figure is a median over `--runs`, printed with its spread, next to a baseline measured
/// in the same run, so the machine's noise shows.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntmwatch-bench",
        abstract: "Benchmarks: import (CSV and workbooks), evaluation cycle, idle daemon, scale, duty extraction, delivery under crashes, web console.",
        subcommands: [ImportBench.self, SheetsBench.self, CycleBench.self, IdleBench.self, ScaleBench.self, ExtractBench.self, FaultsBench.self,
                      ConsoleBench.self, GenerateProvince.self, MeasureChild.self])
}

/// The synthetic province the benchmarks import, written to a folder, for profiling one step
/// (`perf record ntmwatch import ...`) outside the benchmark.
struct GenerateProvince: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write a synthetic province's import files to a folder.")

    @Argument(help: "The folder to write (created).") var folder: String
    @Option(help: "Communes.") var communes = 200
    @Option(help: "Villages per commune.") var villages = 4
    @Option(help: "Projects per commune.") var projects = 2
    @Option(help: "First and last year of data, e.g. 2023-2025.") var years = "2023-2025"

    func run() throws {
        let bounds = years.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { throw ValidationError("--years: expected FIRST-LAST") }
        try SyntheticProvince(communes: communes, villagesPerCommune: villages, projectsPerCommune: projects,
                              years: bounds[0]...bounds[1]).write(to: folder, catalogueFrom: Paths.sample)
    }
}

/// Where the repository and the built products are.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let sample = (repository as NSString).appendingPathComponent("Config/sample")
    static let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

    /// Copies built module libraries into a new `modules` folder under `root` that only its owner
    /// can write, as the loader demands, and returns the folder.
    static func installModules(_ libraries: [String], under root: String) throws -> String {
        let modules = (root as NSString).appendingPathComponent("modules")
        try FileManager.default.createDirectory(atPath: modules, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for library in libraries {
            let source = (products as NSString).appendingPathComponent(library)
            guard FileManager.default.fileExists(atPath: source) else {
                throw ValidationError("\(source) is missing: build everything first (swift build -c release)")
            }
            try FileManager.default.copyItem(atPath: source, toPath: (modules as NSString).appendingPathComponent(library))
        }
        return modules
    }

    static func scratch(_ name: String) throws -> String {
        // Beside the build products, not under /tmp: the loader refuses modules below a folder others can write.
        let path = URL(fileURLWithPath: products).deletingLastPathComponent()
            .appendingPathComponent("bench-scratch/ntmwatch-bench-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }
}

struct Statistics {
    let values: [Double]
    var median: Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    var spread: String { String(format: "min %.3f, max %.3f, n=%d", values.min() ?? 0, values.max() ?? 0, values.count) }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

struct ImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Generate a synthetic province and import it.")

    @Option(parsing: .upToNextOption, help: "Province sizes in communes.") var communes: [Int] = [200, 10_000]
    @Option(help: "Villages per commune.") var villages = 4
    @Option(help: "Projects per commune.") var projects = 2
    @Option(help: "First and last year of data, e.g. 2023-2025.") var years = "2023-2025"
    @Option(help: "Repetitions per size.") var runs = 3
    @Option(help: "Also import into this PostgreSQL server (a fresh database per run).") var postgres: String?

    func run() async throws {
        let bounds = years.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { throw ValidationError("--years: expected FIRST-LAST") }
        print("communes\tbackend\trows\tmedian s\trows/s\tstore MiB\tspread")
        for size in communes {
            let folder = try Paths.scratch("province-\(size)")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try SyntheticProvince(communes: size, villagesPerCommune: villages, projectsPerCommune: projects,
                                  years: bounds[0]...bounds[1]).write(to: folder, catalogueFrom: Paths.sample)
            let backends = ["sqlite"] + (postgres == nil ? [] : ["postgres"])
            for backend in backends {
                var times: [Double] = [], rows = 0, bytes: Int64 = 0
                for _ in 0..<runs {
                    let scratch = try await ScratchStore(backend == "sqlite" ? nil : postgres)
                    let clock = ContinuousClock()
                    let start = clock.now
                    let reports = try await Importer(store: scratch.store).importFolder(folder)
                    times.append(seconds(clock.now - start))
                    rows = reports.reduce(0) { $0 + $1.inserted }
                    bytes = try await scratch.size()
                    await scratch.remove()
                }
                let stats = Statistics(values: times)
                print("\(size)\t\(backend)\t\(rows)\t\(String(format: "%.3f", stats.median))\t\(Int(Double(rows) / stats.median))\t\(String(format: "%.1f", Double(bytes) / 1_048_576))\t\(stats.spread)")
            }
        }
    }
}

/// A new, migrated store for one import run: an SQLite file in a temporary folder, or a new
/// database on the PostgreSQL server at `postgresURL`. Removed after the run.
struct ScratchStore {
    let store: Store
    private let sqliteFolder: String?
    private let postgresURL: String?
    private let database: String?

    init(_ postgresURL: String?) async throws {
        self.postgresURL = postgresURL
        if let postgresURL {
            let name = "bench_\(UUID().uuidString.prefix(8).lowercased())"
            try await Store(location: .postgres(url: postgresURL)).withConnection(.readWrite) {
                try await $0.sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
            }
            var url = URLComponents(string: postgresURL)!
            url.path = "/" + name
            store = Store(location: .postgres(url: url.string!))
            database = name
            sqliteFolder = nil
        } else {
            let folder = try Paths.scratch("store")
            store = Store(location: .sqlite(path: (folder as NSString).appendingPathComponent("store.sqlite")))
            sqliteFolder = folder
            database = nil
        }
        try await store.migrate()
    }

    /// Bytes on disk: the SQLite file and its WAL, or the PostgreSQL database.
    func size() async throws -> Int64 {
        if let sqliteFolder {
            let path = (sqliteFolder as NSString).appendingPathComponent("store.sqlite")
            return ["", "-wal"].reduce(Int64(0)) { sum, suffix in
                sum + ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int64) ?? 0)
            }
        }
        return try await store.withConnection(.readOnly) {
            try await $0.sql.raw("SELECT pg_database_size(current_database()) AS n").first()?.decode(column: "n", as: Int64.self) ?? 0
        }
    }

    /// A new, empty database on the server at `postgresURL`, for a run that outlives this value.
    static func database(_ postgresURL: String) async throws -> String {
        let name = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        try await Store(location: .postgres(url: postgresURL)).withConnection(.readWrite) {
            try await $0.sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
        }
        var url = URLComponents(string: postgresURL)!
        url.path = "/" + name
        return url.string!
    }

    func remove() async {
        if let sqliteFolder { try? FileManager.default.removeItem(atPath: sqliteFolder) }
        if let postgresURL, let database {
            try? await Store(location: .postgres(url: postgresURL)).withConnection(.readWrite) {
                try await $0.sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: database) WITH (FORCE)").run()
            }
        }
    }
}

struct CycleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cycle",
        abstract: "Wall time of one evaluation cycle through the whole pipeline, against a cycle with no checks.")

    @Option(help: "Cycles per configuration.") var runs = 7
    @Option(help: "Synthetic province size; 0 uses the sample province.") var communes = 0

    func run() async throws {
        let root = try Paths.scratch("cycle")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let modules = try Paths.installModules(["libNTMTestCheck.so", "libntmwatch-deadline.so"], under: root)
        var seed = Paths.sample
        if communes > 0 {
            seed = (root as NSString).appendingPathComponent("seed")
            try SyntheticProvince(communes: communes, villagesPerCommune: 4, projectsPerCommune: 2, years: 2023...2025)
                .write(to: seed, catalogueFrom: Paths.sample)
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        print("configuration\tmedian ms\tratio to baseline\tspread (s)")
        var baseline = 0.0
        for (name, checks) in [("baseline (no checks)", "[]"), ("testcheck", "[{module: testcheck}]"), ("deadline", "[{module: deadline}]")] {
            let folder = (root as NSString).appendingPathComponent(name.prefix(8).replacingOccurrences(of: " ", with: "-"))
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let text = """
                instance: bench
                state_directory: \(folder)
                store: {sqlite: \((root as NSString).appendingPathComponent("store.sqlite")), seed_from: \(seed)}
                modules: {directories: [\(modules)]}
                journald: false
                checks: \(checks)
                receivers: [{name: r, directory: \(folder)/spool}]
                route: {receiver: r}
                """
            let engine = try await Engine.start(try ConfigLoader.parse(text, path: (folder as NSString).appendingPathComponent("bench.yaml")), logger: logger)
            var times: [Double] = []
            let clock = ContinuousClock()
            // Each cycle a day later, so the deadline windows move and alerts change state.
            let first = CivilDate(year: 2024, month: 10, day: 20)!
            for run in 0..<runs {
                let start = clock.now
                try await engine.runCycle(at: first.adding(days: run).startInstant().addingTimeInterval(9 * 3600))
                times.append(seconds(clock.now - start))
            }
            await engine.close()
            let stats = Statistics(values: times)
            if baseline == 0 { baseline = stats.median }
            print("\(name)\t\(String(format: "%.1f", stats.median * 1000))\t\(String(format: "%.1f", stats.median / baseline))\t\(stats.spread)")
        }
    }
}

struct IdleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle", abstract: "RSS and CPU of ntmwatchd between cycles, on the sample province.")

    @Option(help: "Seconds to watch after start-up.") var seconds = 20
    @Option(help: "Check interval; the daemon is idle between runs.") var interval = "10m"

    func run() async throws {
        let root = try Paths.scratch("idle")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let modules = try Paths.installModules(["libntmwatch-deadline.so"], under: root)
        let config = (root as NSString).appendingPathComponent("ntmwatch.yaml")
        try """
            instance: bench-idle
            state_directory: \(root)
            store: {sqlite: \(root)/store.sqlite, seed_from: \(Paths.sample)}
            modules: {directories: [\(modules)]}
            journald: false
            checks: [{module: deadline, interval: \(interval)}]
            receivers: [{name: r, directory: \(root)/spool}]
            route: {receiver: r}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (Paths.products as NSString).appendingPathComponent("ntmwatchd"))
        process.arguments = ["--config", config, "--log-level", "warning"]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        // Let it start, seed the store and run the first cycle.
        try await Task.sleep(for: .seconds(5))
        let pid = process.processIdentifier
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        func cpuSeconds() throws -> Double {
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
            return (Double(fields[11])! + Double(fields[12])!) / ticks
        }
        let startCPU = try cpuSeconds()
        var samples: [Double] = [], shared: [Double] = []
        for _ in 0..<seconds {
            try await Task.sleep(for: .seconds(1))
            samples.append(Double(try Child.rss(pid)) / 1024)
            shared.append(Double(try Child.sharedClean(pid)) / 1024)
        }
        let cpu = try cpuSeconds() - startCPU
        let rss = Statistics(values: samples)
        print("idle over \(seconds) s: RSS median \(String(format: "%.1f", rss.median)) MiB (\(rss.spread)); CPU \(String(format: "%.3f", cpu)) s = \(String(format: "%.2f", cpu / Double(seconds) * 100))% of one core")
        // The daemon gives its code pages back when idle, but the kernel keeps those another
        // process maps: this bench maps the same Swift libraries, a daemon under systemd does not.
        print("of which shared with other processes (this bench among them): median \(String(format: "%.1f", Statistics(values: shared).median)) MiB")
    }
}
