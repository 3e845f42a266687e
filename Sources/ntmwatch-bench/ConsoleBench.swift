import ArgumentParser
import CSQLite3
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Issue 19's figures: the web console's page times on a synthetic province (its alert state
/// filled by one cycle of every module), and the idle daemon's RSS with the console off and on.
/// Every serving daemon starts fresh on a copy of the same filled state; off and on alternate
/// (off, on, on, off, off, on, ...) so that neither always comes first after the fill.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "Page times of the web console, and idle RSS with the console on and off.")

    @Option(help: "Province size in communes.") var communes = 10_000
    @Option(help: "Requests of each page per daemon with the console on, after the first (cold) overview.") var requests = 10
    @Option(help: "Serving daemons of each kind (console off, console on).") var runs = 3
    @Option(help: "Seconds of RSS samples per daemon.") var seconds = 5

    func run() async throws {
        let root = try Paths.scratch("console")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let modules = try Paths.installModules(ScaleBench.modules.map { "libntmwatch-\($0).so" }, under: root)
        // The serving daemons have the same checks configured, so their alerts stay open, but no
        // module to run them: what is measured is the server and the console over the filled state.
        let noModules = (root as NSString).appendingPathComponent("no-modules")
        try FileManager.default.createDirectory(atPath: noModules, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let seed = (root as NSString).appendingPathComponent("seed")
        try SyntheticProvince(communes: communes, villagesPerCommune: 4, projectsPerCommune: 2, years: 2023...2025)
            .write(to: seed, catalogueFrom: Paths.sample)
        let catalog = (Paths.repository as NSString).appendingPathComponent("Deploy/catalog/ntmwatch.catalog")
        let port = 20_000 + Int.random(in: 0..<20_000)
        let state = (root as NSString).appendingPathComponent("state")
        func config(_ name: String, modules: String, console: Bool) throws -> String {
            let path = (root as NSString).appendingPathComponent("\(name).yaml")
            try """
                instance: bench-console
                state_directory: \(state)
                store: {sqlite: \(root)/store.sqlite, query_timeout: 600s}
                modules: {directories: [\(modules)]}
                scheduler: {default_timeout: 600s, default_interval: 1h}
                journald: false
                checks: [\(ScaleBench.modules.map { "{module: \($0)}" }.joined(separator: ", "))]
                delivery: {group_wait: 0s, group_interval: 0s}
                receivers: [{name: r, directory: \(root)/spool, max_spool_bytes: 10MB}]
                route: {receiver: r}
                http: {listen: "127.0.0.1:\(port)"\(console ? ", console: {enabled: true, catalog: \(catalog)}" : "")}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let tool = (Paths.products as NSString).appendingPathComponent("ntmwatch")
        let daemon = (Paths.products as NSString).appendingPathComponent("ntmwatchd")
        let fill = try config("fill", modules: modules, console: false)
        _ = try Child.run(tool, ["migrate", "--config", fill])
        let imported = try Child.run(tool, ["import", "--config", fill, "folder", seed])
        print("# \(communes) communes: import \(format(imported.seconds)) s")
        let cycle = try Child.run(daemon, ["--config", fill, "--once", "--at", "2025-11-12", "--log-level", "error"])
        print("# one cycle of every module as of 2025-11-12: \(format(cycle.seconds)) s")
        let filled = (root as NSString).appendingPathComponent("filled-state")
        try FileManager.default.copyItem(atPath: state, toPath: filled)
        let off = try config("off", modules: noModules, console: false), on = try config("on", modules: noModules, console: true)

        var rss: [Bool: [Double]] = [false: [], true: []]
        var cold: [Double] = [], overview: [Double] = [], commune: [Double] = [], alert: [Double] = [], served: [Double] = [], changed: [Double] = []
        var shown = 0
        for index in 0..<(2 * runs) {
            let consoleOn = index % 4 == 1 || index % 4 == 2
            try? FileManager.default.removeItem(atPath: state)
            try FileManager.default.copyItem(atPath: filled, toPath: state)
            try await Child.serve(daemon, consoleOn ? on : off, port: port) { pid in
                rss[consoleOn]!.append(try await Self.sample(pid: pid, seconds: seconds).median)
                guard consoleOn else { return }
                let base = "http://127.0.0.1:\(port)"
                let (first, page) = try Self.time(base + "/")
                cold.append(first)
                // A served overview that lists no alert measures nothing: the fill must have left them open.
                guard let fingerprint = Self.firstLink("/alert/", in: page), let area = Self.firstLink("/area/", in: page) else {
                    throw ValidationError("the overview lists no open alert")
                }
                shown = page.components(separatedBy: "href=\"/alert/").count - 1
                guard let id = Self.firstLink("/commune/", in: try Self.time(base + "/area/\(area)").body) else {
                    throw ValidationError("the area page \(area) lists no commune")
                }
                for _ in 0..<requests {
                    overview.append(try Self.time(base + "/").ms)
                    commune.append(try Self.time(base + "/commune/\(id)").ms)
                    alert.append(try Self.time(base + "/alert/\(fingerprint)").ms)
                    try Self.rewriteAnAlert(in: state)
                    changed.append(try Self.time(base + "/").ms)
                }
                // What the kept placement and pages cost.
                served.append(try await Self.sample(pid: pid, seconds: seconds).median)
            }
        }
        print("figure\tmedian\tmin\tmax\tn")
        func line(_ name: String, _ values: [Double]) {
            let stats = Statistics(values: values)
            print("\(name)\t\(format(stats.median))\t\(format(values.min() ?? 0))\t\(format(values.max() ?? 0))\t\(values.count)")
        }
        line("idle RSS, console off (MiB)", rss[false]!)
        line("idle RSS, console on (MiB)", rss[true]!)
        print("idle RSS on/off (ratio of medians)\t\(String(format: "%.2f", Statistics(values: rss[true]!).median / Statistics(values: rss[false]!).median))")
        line("RSS after the requests, console on (MiB)", served)
        line("overview, first request (ms)", cold)
        line("overview, repeated (ms)", overview)
        line("overview after an alert changed (ms)", changed)
        line("commune page (ms)", commune)
        line("alert page (ms)", alert)
        print("# the overview showed \(shown) worst items; each daemon served a fresh copy of the filled state")
    }

    /// One GET through curl: its total time in ms and the body.
    static func time(_ url: String) throws -> (ms: Double, body: String) {
        let marker = "\n--ntmwatch-bench--"
        let result = try Child.run("/usr/bin/curl", ["-s", "-H", "Accept-Language: vi", "-w", "\(marker)%{http_code} %{time_total}", url])
        guard let range = result.output.range(of: marker, options: .backwards) else { throw ValidationError("\(url): no answer") }
        let parts = result.output[range.upperBound...].split(separator: " ")
        guard parts.first == "200", let time = Double(parts.last ?? "") else {
            throw ValidationError("\(url) answered \(result.output[range.upperBound...])")
        }
        return (time * 1000, String(result.output[..<range.lowerBound]))
    }

    /// Rewrites one open alert's row as a check run would: the next overview is drawn again,
    /// over the placement the console keeps.
    static func rewriteAnAlert(in state: String) throws {
        let path = (state as NSString).appendingPathComponent("alerts.sqlite")
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else { throw ValidationError("cannot open \(path)") }
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 5000)
        let sql = "UPDATE alerts SET status = status WHERE fingerprint = (SELECT MIN(fingerprint) FROM alerts WHERE status <> 'resolved')"
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw ValidationError("\(path): \(String(cString: sqlite3_errmsg(db)))") }
    }

    static func firstLink(_ prefix: String, in page: String) -> String? {
        guard let start = page.range(of: "href=\"\(prefix)") else { return nil }
        return page[start.upperBound...].prefix { $0 != "\"" }.removingPercentEncoding
    }

    static func sample(pid: Int32, seconds: Int) async throws -> Statistics {
        var samples: [Double] = []
        for _ in 0..<max(seconds, 1) {
            samples.append(Double(try Child.rss(pid)) / 1024)
            try await Task.sleep(for: .seconds(1))
        }
        return Statistics(values: samples)
    }

    func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
