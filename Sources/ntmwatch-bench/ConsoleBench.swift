import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Issue 19's figures: the province overview's page time on a synthetic province (its alert
/// state filled by one cycle of every module), median with min and max over repeated requests
/// through curl, and the idle daemon's RSS with the console off and on, in the same run.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Page time of the web console's province overview, and idle RSS with the console on and off.")

    @Option(help: "Province size in communes.") var communes = 10_000
    @Option(help: "Requests of the overview.") var requests = 10
    @Option(help: "Seconds of RSS samples per daemon.") var seconds = 5

    func run() async throws {
        let root = try Paths.scratch("console")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let modules = try Paths.installModules(ScaleBench.modules.map { "libntmwatch-\($0).so" }, under: root)
        let seed = (root as NSString).appendingPathComponent("seed")
        try SyntheticProvince(communes: communes, villagesPerCommune: 4, projectsPerCommune: 2, years: 2023...2025)
            .write(to: seed, catalogueFrom: Paths.sample)
        let catalog = (Paths.repository as NSString).appendingPathComponent("Deploy/catalog/ntmwatch.catalog")
        let port = 20_000 + Int.random(in: 0..<20_000)
        func config(_ name: String, checks: [String], console: Bool) throws -> String {
            let path = (root as NSString).appendingPathComponent("\(name).yaml")
            try """
                instance: bench-console
                state_directory: \(root)/state
                store: {sqlite: \(root)/store.sqlite, query_timeout: 600s}
                modules: {directories: [\(modules)]}
                scheduler: {default_timeout: 600s, default_interval: 1h}
                journald: false
                checks: [\(checks.map { "{module: \($0)}" }.joined(separator: ", "))]
                delivery: {group_wait: 0s, group_interval: 0s}
                receivers: [{name: r, directory: \(root)/spool, max_spool_bytes: 10MB}]
                route: {receiver: r}
                http: {listen: "127.0.0.1:\(port)"\(console ? ", console: {enabled: true, catalog: \(catalog)}" : "")}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let tool = (Paths.products as NSString).appendingPathComponent("ntmwatch")
        let daemon = (Paths.products as NSString).appendingPathComponent("ntmwatchd")
        let fill = try config("fill", checks: ScaleBench.modules, console: false)
        _ = try Child.run(tool, ["migrate", "--config", fill])
        let imported = try Child.run(tool, ["import", "--config", fill, "folder", seed])
        print("# \(communes) communes: import \(format(imported.seconds)) s")
        let cycle = try Child.run(daemon, ["--config", fill, "--once", "--at", "2025-11-12", "--log-level", "error"])
        print("# one cycle of every module as of 2025-11-12: \(format(cycle.seconds)) s")

        // The serving daemons run no check: what is measured is the server and the console, over
        // the state the cycle left.
        print("figure\tmedian\tmin\tmax")
        let off = try await idleRSS(daemon, try config("off", checks: [], console: false), port: port)
        print("idle RSS, console off (MiB)\t\(format(off.median))\t\(format(off.values.min()!))\t\(format(off.values.max()!))")
        try await serve(daemon, try config("on", checks: [], console: true), port: port) { pid in
            let idle = try await Self.sample(pid: pid, seconds: seconds)
            print("idle RSS, console on (MiB)\t\(format(idle.median))\t\(format(idle.values.min()!))\t\(format(idle.values.max()!))")
            var times: [Double] = []
            for _ in 0..<requests {
                let result = try Child.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-H", "Accept-Language: vi",
                                                             "-w", "%{http_code} %{time_total}", "http://127.0.0.1:\(port)/"])
                let parts = result.output.split(separator: " ")
                guard parts.first == "200", let time = Double(parts.last ?? "") else {
                    throw ValidationError("the overview answered \(result.output)")
                }
                times.append(time * 1000)
            }
            let stats = Statistics(values: times)
            print("overview page time (ms, n=\(requests))\t\(format(stats.median))\t\(format(times.min()!))\t\(format(times.max()!))")
            let after = try await Self.sample(pid: pid, seconds: seconds)
            print("RSS after the requests, console on (MiB)\t\(format(after.median))\t\(format(after.values.min()!))\t\(format(after.values.max()!))")
        }
    }

    func idleRSS(_ daemon: String, _ config: String, port: Int) async throws -> Statistics {
        var result: Statistics?
        try await serve(daemon, config, port: port) { pid in result = try await Self.sample(pid: pid, seconds: seconds) }
        return result!
    }

    /// Runs the daemon until `body` is done, once it answers /readyz.
    func serve(_ daemon: String, _ config: String, port: Int, _ body: (Int32) async throws -> Void) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemon)
        process.arguments = ["--config", config, "--log-level", "error"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let start = ContinuousClock.now
        while (try? Child.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/readyz"])) == nil {
            guard ContinuousClock.now - start < .seconds(300), process.isRunning else { throw ValidationError("ntmwatchd did not become ready") }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Let start-up allocations settle before measuring.
        try await Task.sleep(for: .seconds(2))
        try await body(process.processIdentifier)
    }

    static func sample(pid: Int32, seconds: Int) async throws -> Statistics {
        var samples: [Double] = []
        for _ in 0..<max(seconds, 1) {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }!
            samples.append(Double(line.split(separator: " ")[1])! / 1024)
            try await Task.sleep(for: .seconds(1))
        }
        return Statistics(values: samples)
    }

    func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
