import ArgumentParser
import CheckKit
import Foundation
import Logging
import NTMExtract
import NTMSpreadsheet
import NTMWorkbooks
import NTMStore
import NTMAlerting
import NTMDelivery
import NTMWatchCore
import Synchronization

@main
struct NTMWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntmwatch",
        abstract: "Công cụ vận hành ntmwatch / the ntmwatch operator's tool.",
        subcommands: [CheckConfig.self, Evaluate.self, Modules.self, Alerts.self, Report.self, Status.self, SilenceCommand.self, DigestCommand.self, Migrate.self, Import.self,
                      Template.self, NewModule.self, Extract.self])

    /// As the library's, except that an error's text has its secrets removed before it is printed:
    /// a store URL that does not parse would otherwise be echoed with its password.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand { try await asynchronous.run() } else { try command.run() }
        } catch {
            let message = fullMessage(for: error)
            let redacted = Redaction.redact(message)
            guard redacted != message else { exit(withError: error) }
            FileHandle.standardError.write(Data((redacted + "\n").utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        }
    }
}

/// Everything `ntmwatch` writes to stderr: without secrets.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((Redaction.redact(text) + "\n").utf8))
}

/// Options every subcommand takes.
struct Common: ParsableArguments {
    @Option(help: "The configuration file.")
    var config = "/etc/ntmwatch/ntmwatch.yaml"

    @Option(help: "Output language: vi (default) or en. Also NTMWATCH_LANG.")
    var lang: Language?

    var language: Language {
        lang ?? ProcessInfo.processInfo.environment["NTMWATCH_LANG"].flatMap(Language.init(rawValue:)) ?? .vi
    }

    func say(_ vi: String, _ en: String) { print(Redaction.redact(language == .vi ? vi : en)) }

    func loadConfiguration() throws -> Configuration {
        do {
            return try ConfigLoader.load(path: config)
        } catch {
            printError("\(error.text(in: language))")
            throw ExitCode(78)
        }
    }

    var quietLogger: Logger {
        var logger = Logger(label: "ntmwatch")
        logger.logLevel = .warning
        return logger
    }
}

extension Language: @retroactive ExpressibleByArgument {}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Kiểm tra tệp cấu hình và thiết lập của từng mô-đun / validate the configuration and every module's settings.")
    @OptionGroup var common: Common

    func run() async throws {
        let configuration = try common.loadConfiguration()
        let runtime = Runtime.build(configuration)
        for problem in runtime.problems {
            let place = problem.line.map { "\(configuration.path):\($0): " } ?? ""
            printError("\(place)\(problem.subject): \(problem.reason)")
        }
        guard runtime.problems.isEmpty else { throw ExitCode(1) }
        common.say("Cấu hình hợp lệ: \(runtime.checks.count) kiểm tra, \(runtime.modules.count) mô-đun.",
                   "Configuration is valid: \(runtime.checks.count) checks, \(runtime.modules.count) modules.")
    }
}

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Đánh giá một lần tại một thời điểm, không gửi cảnh báo / evaluate once as of an instant, without notifying.")
    @OptionGroup var common: Common

    @Option(help: "ISO 8601 instant or YYYY-MM-DD (Vietnam time).")
    var at: String

    @Option(help: "Only this check or module.")
    var module: String?

    enum Format: String, ExpressibleByArgument { case text, json }
    @Option(help: "text or json (one object per line).")
    var format: Format = .text

    func run() async throws {
        guard let instant = InstantText.parse(at) else { throw ValidationError("--at: '\(at)' is not an ISO 8601 instant or YYYY-MM-DD") }
        let configuration = try common.loadConfiguration()
        let evaluator: Evaluator
        do {
            evaluator = try await Evaluator.open(configuration, logger: common.quietLogger)
        } catch let error as Evaluator.StoreMissing {
            printError("ntmwatch: \(error)")
            throw ExitCode(1)
        }
        let results = try await evaluator.evaluate(at: instant, checkName: module)
        if let module, results.isEmpty {
            printError("no check or module named '\(module)'")
            throw ExitCode(2)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var failed = false
        for result in results {
            switch result.outcome {
            case .failed(let reason):
                failed = true
                printError("\(result.check): \(reason)")
            case .timedOut:
                failed = true
                printError("\(result.check): timed out")
            case .cancelled:
                failed = true
                printError("\(result.check): cancelled")
            case .findings:
                break
            }
            for labeled in result.findings {
                let finding = labeled.finding
                switch format {
                case .text:
                    print("[\(labeled.severity.rawValue)] \(finding.ruleID) \(finding.summary.text(in: common.language))")
                case .json:
                    let line = EvaluationLine(
                        check: result.check, rule: finding.ruleID, severity: labeled.severity.rawValue,
                        fingerprint: labeled.fingerprint, subject: finding.subject, labels: labeled.labels,
                        values: finding.values.mapValues(\.plain), summary: finding.summary.vi, summary_en: finding.summary.en,
                        source: labeled.source)
                    print(String(decoding: try encoder.encode(line), as: UTF8.self))
                }
            }
        }
        if failed { throw ExitCode(1) }
    }

    struct EvaluationLine: Encodable {
        let check: String, rule: String, severity: String, fingerprint: String
        let subject: Subject, labels: [String: String], values: [String: String]
        let summary: String, summary_en: String
        /// The rule's document and section (`002 §IV.9`).
        let source: String?
    }
}

struct Modules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Liệt kê mô-đun và quy tắc / list modules and their rules.")
    @OptionGroup var common: Common

    func run() async throws {
        let runtime = Runtime.build(try common.loadConfiguration())
        for module in runtime.modules {
            let descriptor = module.descriptor
            print("\(descriptor.name) \(descriptor.version) — \(descriptor.summary.text(in: common.language)) (\(module.path))")
            for rule in descriptor.rules {
                print("  \(rule.id) [\(rule.defaultSeverity.rawValue)] \(rule.messageID) \(rule.title.text(in: common.language))")
            }
        }
        for problem in runtime.problems {
            common.say("LỖI \(problem.subject): \(problem.reason)", "FAILED \(problem.subject): \(problem.reason)")
        }
    }
}

struct NewModule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-module",
        abstract: "Tạo khung một mô-đun Swift mới trong Plugins/ / scaffold a new Swift check module under Plugins/.")

    @Argument(help: "The module name: lower-case letters, digits and '_' (e.g. water_quality).")
    var name: String

    @Option(help: "The repository's root (where Package.swift is).")
    var root = FileManager.default.currentDirectoryPath

    @Option(help: "Output language: vi (default) or en. Also NTMWATCH_LANG.")
    var lang: Language?

    func run() async throws {
        let language = lang ?? ProcessInfo.processInfo.environment["NTMWATCH_LANG"].flatMap(Language.init(rawValue:)) ?? .vi
        do {
            let scaffold = try ModuleScaffold(name: name)
            try scaffold.write(into: root)
            for file in scaffold.files { print(file.path) }
            print(language == .vi
                  ? "Đã thêm vào Package.swift. Tiếp theo: swift build --product ntmwatch-\(name) && swift test --filter \(scaffold.typeName)RuleTests"
                  : "Added to Package.swift. Next: swift build --product ntmwatch-\(name) && swift test --filter \(scaffold.typeName)RuleTests")
        } catch {
            printError("ntmwatch new-module: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Opens the daemon's state read-only, runs `body`, and closes it; nil when there is none yet.
func withState<T>(_ common: Common, _ configuration: Configuration, _ body: (AlertStateStore) async throws -> T) async throws -> T? {
    try await AlertStateStore.openReadOnly(directory: configuration.stateDirectory)?.closing(after: body)
}

struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Liệt kê cảnh báo, nặng nhất và lâu nhất trước / list alerts, most severe and oldest first.")
    @OptionGroup var common: Common

    @Flag(help: "Include resolved alerts.") var all = false
    @Option(help: "Only alerts about this unit (its id).") var unit: String?
    @Option(help: "Only alerts about units under this one (any level of the hierarchy labels).") var parent: String?
    @Option(help: "Only this rule (e.g. deadline.overdue).") var rule: String?
    @Option(help: "Only this severity and above.") var severity: Severity?

    enum Format: String, ExpressibleByArgument { case table, tsv, json }
    @Option(help: "table (default), tsv (for spreadsheets) or json.") var format: Format = .table

    func run() async throws {
        let configuration = try common.loadConfiguration()
        var alerts = try await withState(common, configuration) { all ? try await $0.allAlerts() : try await $0.activeAlerts() } ?? []
        alerts = alerts.filter(AlertReport.Filter(unit: unit, parent: parent, rule: rule, severity: severity).matches)
        .sorted { ($1.severity, $1.firingSince ?? $1.activeSince, $0.fingerprint) < ($0.severity, $0.firingSince ?? $0.activeSince, $1.fingerprint) }
        let language = common.language
        let headers = language == .vi
            ? ["Trạng thái", "Mức độ", "Quy tắc", "Đối tượng", "Thuộc", "Từ", "Nội dung"]
            : ["Status", "Severity", "Rule", "Subject", "Under", "Since", "Message"]
        let rows = alerts.map { alert -> [String] in
            let under = ["district", "province"].compactMap { alert.labels[$0] }.first ?? ""
            let since = Value.instant(alert.firingSince ?? alert.activeSince).formatted(in: language)
            var message = alert.summary(in: language)
            if let silences = alert.silencedBy {
                message += language == .vi ? " — tạm dừng bởi \(silences.joined(separator: ","))" : " — silenced by \(silences.joined(separator: ","))"
            } else if let source = alert.inhibitedBy {
                message += language == .vi ? " — bị chặn bởi cảnh báo \(source)" : " — inhibited by alert \(source)"
            }
            return [alert.status.rawValue, alert.severity.rawValue, alert.ruleID, alert.subject.name, under, since, message]
        }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(alerts), as: UTF8.self))
        case .tsv:
            print(headers.joined(separator: "\t"))
            // Text cells only, through the shared neutraliser: a subject named "=cmd" must not run in Excel.
            for row in rows {
                print(row.map { SpreadsheetText.neutralised($0.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")) }
                    .joined(separator: "\t"))
            }
        case .table:
            guard !rows.isEmpty else { common.say("Không có cảnh báo.", "No alerts."); return }
            // The message is last and not padded: it is long and a terminal wraps it anyway.
            let widths = (0..<(headers.count - 1)).map { column in
                ([headers] + rows).map { $0[column].count }.max() ?? 0
            }
            for row in [headers] + rows {
                let padded = row.enumerated().map { index, cell in
                    index < widths.count ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) : cell
                }
                print(padded.joined(separator: "  "))
            }
        }
    }
}

/// `ntmwatch status`: one screen about the watcher itself, as a Monitoring Plugin (exit 0 OK,
/// 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and performance data after `|`), so that any Nagios or
/// Icinga can watch ntmwatchd.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tình trạng của ntmwatchd (mã thoát kiểu Nagios) / the daemon's health as a Monitoring Plugin.")
    @OptionGroup var common: Common

    @Option(help: "CRITICAL when the daemon's last heartbeat is older than this (e.g. 5m).") var stale = "5m"
    @Option(help: "WARNING when more notifications than this wait in the ledger.") var backlog = 1000

    func run() async throws {
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(path: common.config)
        } catch {
            print("NTMWATCH UNKNOWN - \(error.text(in: common.language))")
            throw ExitCode(3)
        }
        guard let staleAfter = DurationText.parse(stale) else { throw ValidationError("--stale: expected a duration such as 5m") }
        let vi = common.language == .vi
        struct Figures { var alerts: [Alert]; var runs: [AlertStateStore.CheckRun]; var ledger: (pending: Int, dead: Int); var heartbeat: (at: Date, pid: Int32)? }
        let figures: Figures?
        do {
            figures = try await withState(common, configuration) { state in
                Figures(alerts: try await state.activeAlerts(), runs: try await state.checkRuns(),
                        ledger: try await state.ledgerDepth(), heartbeat: try await state.lastHeartbeat())
            }
        } catch {
            print("NTMWATCH UNKNOWN - \(vi ? "không đọc được trạng thái" : "cannot read the state"): \(error)")
            throw ExitCode(3)
        }
        guard let figures else {
            print("NTMWATCH UNKNOWN - \(vi ? "chưa có trạng thái trong" : "no state yet in") \(configuration.stateDirectory)")
            throw ExitCode(3)
        }
        let now = Date()
        let firing = figures.alerts.filter { $0.status == .firing }
        let failing = figures.runs.filter { $0.consecutiveFailures > 0 }
        let heartbeatAge = figures.heartbeat.map { now.timeIntervalSince($0.at) }
        var problems: [(level: Int32, text: String)] = []
        if heartbeatAge.map({ $0 > staleAfter.seconds }) ?? true {
            problems.append((2, heartbeatAge.map {
                vi ? "ntmwatchd không báo còn chạy từ \(Int($0)) giây" : "ntmwatchd has not reported for \(Int($0)) s"
            } ?? (vi ? "ntmwatchd chưa từng chạy ở chế độ dịch vụ" : "ntmwatchd has never run as a service")))
        }
        if figures.ledger.dead > 0 {
            problems.append((2, vi ? "\(figures.ledger.dead) thông báo không gửi được (dead letters)" : "\(figures.ledger.dead) notifications undeliverable (dead letters)"))
        }
        if !failing.isEmpty {
            problems.append((1, (vi ? "kiểm tra lỗi: " : "checks failing: ") + failing.map(\.check).joined(separator: ", ")))
        }
        if figures.ledger.pending > backlog {
            problems.append((1, vi ? "\(figures.ledger.pending) thông báo đang chờ gửi" : "\(figures.ledger.pending) notifications waiting"))
        }
        let code = problems.map(\.level).max() ?? 0
        let word = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][Int(code)]
        var counts: [Severity: Int] = [:]
        for alert in firing { counts[alert.severity, default: 0] += 1 }
        let summary = problems.isEmpty
            ? (vi ? "\(figures.runs.count) kiểm tra chạy bình thường, \(firing.count) cảnh báo đang phát" : "\(figures.runs.count) checks running, \(firing.count) alerts firing")
            : problems.map(\.text).joined(separator: "; ")
        var perfdata = Severity.allCases.reversed().map { "firing_\($0.rawValue)=\(counts[$0, default: 0])" }
        perfdata += ["ledger_pending=\(figures.ledger.pending);\(backlog)", "dead_letters=\(figures.ledger.dead);;0",
                     "checks_failing=\(failing.count);0", "heartbeat_age=\(Int(heartbeatAge ?? -1))s;;\(Int(staleAfter.seconds))"]
        print("NTMWATCH \(word) - \(summary) | \(perfdata.joined(separator: " "))")
        for run in figures.runs {
            let when = Value.instant(run.lastRunAt).formatted(in: common.language)
            let took = run.duration.map { String(format: "%.2f s", $0) } ?? "-"
            print("\(run.check): \(run.outcome) \(when) (\(took))\(run.findings.map { vi ? ", \($0) phát hiện" : ", \($0) findings" } ?? "")\(run.reason.map { " — \($0)" } ?? "")")
        }
        if code != 0 { throw ExitCode(code) }
    }
}
extension Severity: @retroactive ExpressibleByArgument {}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tạo hoặc nâng cấp kho dữ liệu / create or upgrade the store's schema.")
    @OptionGroup var common: Common

    func run() async throws {
        let configuration = try common.loadConfiguration()
        let store = Store(location: configuration.store.location, logger: common.quietLogger)
        let applied = try await store.migrate()
        if applied.isEmpty {
            common.say("Kho dữ liệu đã ở phiên bản \(Schema.currentVersion).", "The store is already at version \(Schema.currentVersion).")
        }
        for migration in applied {
            common.say("Đã áp dụng phiên bản \(migration.version): \(migration.name)", "Applied version \(migration.version): \(migration.name)")
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Nhập dữ liệu từ CSV/JSON/Excel, tất cả hoặc không gì cả / import CSV, JSON or Excel, all or nothing.",
        discussion: """
            ntmwatch import KIND FILE.csv|FILE.json|FILE.xlsx
            ntmwatch import folder FOLDER          (every <kind>.csv or <kind>.json of a folder)
            ntmwatch import FILE.xlsx              (every sheet named after a kind, in one transaction)
            Kinds: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")).
            Sheet names: \(ImportKind.dependencyOrder.map(\.sheetName).joined(separator: ", ")) (or the kind's English name).
            """)
    @OptionGroup var common: Common

    @Argument(help: "What the file holds, 'folder', or an .xlsx workbook.")
    var kind: String

    @Argument(help: "The CSV, JSON or .xlsx file (or folder, for 'folder').")
    var file: String?

    @Option(help: "Only this sheet of the workbook.")
    var sheet: String?

    @Option(help: "When a workbook is refused: write it here with the offending cells highlighted and commented.")
    var errors: String?

    @Flag(help: "Report what would change and write nothing.")
    var dryRun = false

    func run() async throws {
        let workbook = [kind, file ?? ""].first { $0.lowercased().hasSuffix(".xlsx") }
        if workbook == nil && (file == nil || sheet != nil || errors != nil) {
            throw ValidationError("give KIND FILE, 'folder' FOLDER, or an .xlsx workbook (--sheet and --errors are for workbooks)")
        }
        let configuration = try common.loadConfiguration()
        let store = Store(location: configuration.store.location, logger: common.quietLogger)
        try await store.requireCurrentSchema()
        let importer = Importer(store: store)
        do {
            let reports: [ImportReport]
            if let workbook {
                let workbookKind = try file == nil ? nil : parseKind(kind)
                let meter = ProgressMeter(language: common.language)
                let progress: ImportProgress? = meter.map { meter in { @Sendable in meter.report($0, $1, $2) } }
                reports = try await importer.importWorkbook(workbook, kind: workbookKind, sheet: sheet, dryRun: dryRun,
                                                            progress: progress)
                meter?.finish()
            } else if kind == "folder" {
                reports = try await importer.importFolder(file!, dryRun: dryRun)
            } else {
                reports = [try await importer.importFile(try parseKind(kind), path: file!, dryRun: dryRun)]
            }
            for report in reports {
                let prefix = report.dryRun ? (common.language == .vi ? "(thử) " : "(dry run) ") : ""
                common.say("\(prefix)\(report.file): thêm \(report.inserted), cập nhật \(report.updated), không đổi \(report.unchanged)",
                           "\(prefix)\(report.file): \(report.inserted) inserted, \(report.updated) updated, \(report.unchanged) unchanged")
            }
        } catch let error as ImportError {
            printError(error.message(in: common.language))
            throw ExitCode(1)
        } catch let error as WorkbookImportError {
            printError(error.message(in: common.language))
            if let errors, let workbook {
                do {
                    try ErrorWorkbook.write(source: workbook, notes: error.cellNotes, to: errors)
                    common.say("Đã ghi các ô lỗi (tô màu, có chú thích) vào \(errors)", "Wrote the offending cells (highlighted, commented) to \(errors)")
                } catch {
                    FileHandle.standardError.write(Data("\(errors): \(error)\n".utf8))
                }
            }
            throw ExitCode(1)
        }
    }

    func parseKind(_ text: String) throws -> ImportKind {
        guard let kind = ImportKind(rawValue: text) ?? ImportKind(sheetName: text) else {
            throw ValidationError("unknown kind '\(text)'; kinds: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")), folder")
        }
        return kind
    }
}

/// Rows per second and time left on a terminal's stderr; nothing when stderr is not a terminal.
final class ProgressMeter: Sendable {
    private struct State { var stage = ""; var started = Date(); var shown = false; var done = 0 }
    private let state = Mutex(State())
    private let language: Language

    init?(language: Language) {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        self.language = language
    }

    func report(_ stage: String, _ done: Int, _ total: Int?) {
        let line = state.withLock { state -> String? in
            // A new sheet, or the same sheet's second pass (reading, then writing), starts the clock again.
            if state.stage != stage || done < state.done { state = State(stage: stage, started: Date(), shown: state.shown) }
            state.done = done
            let elapsed = Date().timeIntervalSince(state.started)
            guard done > 0, elapsed > 0.5 else { return nil }
            state.shown = true
            let rate = Double(done) / elapsed
            var text = "\(stage): \(done)" + (total.map { "/\($0)" } ?? "")
            text += language == .vi ? " dòng, \(Int(rate)) dòng/giây" : " rows, \(Int(rate)) rows/s"
            if let total, total > done {
                let left = Int((Double(total - done) / rate).rounded(.up))
                text += language == .vi ? ", còn khoảng \(left) giây" : ", about \(left) s left"
            }
            return text
        }
        if let line { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
    }

    func finish() {
        if state.withLock({ $0.shown }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

struct Template: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ghi sổ Excel mẫu để điền dữ liệu nhập / write an Excel template to fill in for import.")

    @Argument(help: "A kind, or 'all' (default).")
    var kind = "all"

    @Option(help: "The .xlsx file to write.")
    var out: String

    @Option(help: "Output language: vi (default) or en. Also NTMWATCH_LANG.")
    var lang: Language?

    func run() async throws {
        let kinds: [ImportKind]
        if kind == "all" {
            kinds = ImportKind.dependencyOrder
        } else if let one = ImportKind(rawValue: kind) ?? ImportKind(sheetName: kind) {
            kinds = [one]
        } else {
            throw ValidationError("unknown kind '\(kind)'; kinds: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")), all")
        }
        try ImportTemplate.write(kinds, to: out)
        let language = lang ?? ProcessInfo.processInfo.environment["NTMWATCH_LANG"].flatMap(Language.init(rawValue:)) ?? .vi
        print(language == .vi ? "Đã ghi \(out): \(kinds.count) trang tính." : "Wrote \(out): \(kinds.count) sheets.")
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ghi các cảnh báo đang mở ra sổ Excel và CSV / write the open alerts as a workbook and CSV.")
    @OptionGroup var common: Common

    @Option(help: "The .xlsx workbook to write.")
    var out: String?

    @Option(help: "A CSV file to write (UTF-8 with a byte-order mark, for older Excel).")
    var csv: String?

    @Option(help: "Only alerts about this unit (its id).")
    var unit: String?

    @Option(help: "Only alerts about units under this one (any level of the hierarchy labels).")
    var parent: String?

    @Option(help: "Only this rule (e.g. deadline.overdue).")
    var rule: String?

    @Option(help: "Only alerts at least this severe: info, notice, warning, error, critical.")
    var severity: Severity?

    @Option(help: "The alerts open at this ISO 8601 instant or YYYY-MM-DD (Vietnam time), from the alert history.")
    var at: String?

    func run() async throws {
        guard out != nil || csv != nil else { throw ValidationError("give --out FILE.xlsx, --csv FILE.csv, or both") }
        var instant = Date()
        if let at {
            guard let parsed = InstantText.parse(at) else { throw ValidationError("--at: '\(at)' is not an ISO 8601 instant or YYYY-MM-DD") }
            instant = parsed
        }
        let configuration = try common.loadConfiguration()
        let alerts = try await withState(common, configuration) { state in
            at == nil ? try await state.activeAlerts()
                : AlertReport.alertsOpen(at: instant, transitions: try await state.transitions(),
                                         notifications: try await state.notifications(), current: try await state.allAlerts())
        } ?? []
        let report = AlertReport(alerts: alerts, at: instant,
                                 filter: .init(unit: unit, parent: parent, rule: rule, severity: severity))
        if let out { try report.writeWorkbook(to: out) }
        if let csv { try Data(report.csv().utf8).write(to: URL(fileURLWithPath: csv), options: .atomic) }
        common.say("\(report.alerts.count) cảnh báo đang mở.", "\(report.alerts.count) open alerts.")
    }
}


struct Extract: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Đề xuất nhiệm vụ có thời hạn từ văn bản kế hoạch (.txt, .docx, .pdf) / propose the dated duties of a plan.")

    enum Format: String, ExpressibleByArgument { case csv, table }

    @Argument(help: "The plan: UTF-8 text, .docx or .pdf.")
    var file: String

    @Option(help: "csv (the obligations import format plus evidence columns) or table (for reading).")
    var format: Format = .table

    @Option(name: .customLong("targets-out"), help: "Write the dated targets found to this file, in the targets import format.")
    var targetsOut: String?

    @Option(help: "Output language: vi (default) or en. Also NTMWATCH_LANG.")
    var lang: Language?

    func run() async throws {
        let language = lang ?? ProcessInfo.processInfo.environment["NTMWATCH_LANG"].flatMap(Language.init(rawValue:)) ?? .vi
        let text: String
        do { text = try DocumentReader.text(of: file) } catch {
            FileHandle.standardError.write(Data("ntmwatch extract: \(error)\n".utf8))
            throw ExitCode(66)
        }
        let extraction = Extractor.extract(text)
        let document = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        switch format {
        case .csv: print(ProposalCSV.duties(extraction.duties, document: document), terminator: "")
        case .table: print(Self.table(extraction.duties, language: language))
        }
        if let targetsOut {
            do {
                try ProposalCSV.targets(extraction.targets, document: document).write(toFile: targetsOut, atomically: true, encoding: .utf8)
            } catch {
                FileHandle.standardError.write(Data("ntmwatch extract: \(targetsOut): \(error.localizedDescription)\n".utf8))
                throw ExitCode(73)
            }
        }
        let date = extraction.documentDate?.description ?? (language == .vi ? "không rõ" : "unknown")
        FileHandle.standardError.write(Data((language == .vi
            ? "\(extraction.duties.count) nhiệm vụ, \(extraction.targets.count) mục tiêu; ngày văn bản: \(date). Hãy rà soát từng dòng trước khi nhập.\n"
            : "\(extraction.duties.count) duties, \(extraction.targets.count) targets; document date: \(date). Review every row before importing.\n").utf8))
    }

    static func table(_ duties: [Duty], language: Language) -> String {
        let header = language == .vi
            ? ["Mục", "Chủ trì", "Hạn", "Cách tính", "Lặp lại", "Trích dẫn"]
            : ["Section", "Responsible", "Due", "Semantics", "Repeats", "Quote"]
        var rows = [header]
        for duty in duties {
            let d = duty.deadline
            rows.append([duty.section, duty.responsibleKey, d.due.description, semantics(d.semantics, language),
                         d.recurrence == "once" ? (language == .vi ? "một lần" : "once") : d.recurrence,
                         String(duty.quote.suffix(70))])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func semantics(_ s: Deadline.Semantics, _ language: Language) -> String {
        guard language == .vi else { return s.rawValue }
        switch s {
        case .before: return "trước ngày"
        case .by: return "chậm nhất ngày"
        case .withinMonth: return "trong tháng"
        case .withinQuarter: return "trong quý"
        case .withinHalf: return "trong 6 tháng"
        case .withinYear: return "trong năm"
        }
    }
}

/// `ntmwatch silence`, as amtool's: the daemon reads the silences from the state file at each
/// run of a check, so they take effect without a reload.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Tạm dừng thông báo cho cảnh báo khớp điều kiện / mute the notifications of matching alerts.",
        subcommands: [Add.self, List.self, Expire.self, ImportFile.self, Export.self])

    static func open(_ common: Common) async throws -> AlertStateStore {
        let configuration = try common.loadConfiguration()
        return try await AlertStateStore.open(directory: configuration.stateDirectory)
    }

    /// The stored silences, without the expired ones unless asked.
    static func silences(_ common: Common, expired: Bool, at now: Date) async throws -> [Silence] {
        let state = try await open(common)
        let silences = try await state.silences()
        await state.close()
        return silences.filter { expired || $0.state(at: now) != .expired }
    }

    static func fail(_ text: String) -> ExitCode {
        FileHandle.standardError.write(Data("ntmwatch silence: \(text)\n".utf8))
        return ExitCode(2)
    }

    static func describe(_ silence: Silence, common: Common, now: Date) -> String {
        let state: String = switch (silence.state(at: now), common.language) {
        case (.pending, .vi): "chưa bắt đầu"
        case (.active, .vi): "đang hiệu lực"
        case (.expired, .vi): "đã hết hạn"
        case (let other, _): other.rawValue
        }
        let starts = Value.instant(silence.startsAt).formatted(in: common.language)
        let ends = Value.instant(silence.endsAt).formatted(in: common.language)
        let matchers = silence.matchers.map(\.description).joined(separator: ",")
        return "\(silence.id)\t\(state)\t\(starts)\t\(ends)\t\(silence.createdBy)\t{\(matchers)}\t\(silence.comment)"
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Thêm một lệnh tạm dừng / add a silence.",
            discussion: "Example: ntmwatch silence add --match rule=deadline.overdue --match commune=20107 --until 2025-01-31 --comment \"Gia hạn đến 31/01\"")
        @OptionGroup var common: Common

        @Option(name: .customLong("match"), help: "A label matcher: name=value, name!=value, name=~regex, name!~regex. Repeat for more.")
        var matchers: [String] = []

        @Option(help: "Last day (YYYY-MM-DD, to its end in Vietnam time) or an ISO 8601 instant.")
        var until: String?

        @Option(name: .customLong("for"), help: "How long, e.g. 14d or 12h (instead of --until).")
        var duration: String?

        @Option(help: "Start: ISO 8601 instant or YYYY-MM-DD (Vietnam time); now by default.")
        var starts: String?

        @Option(help: "Why the alerts are muted.")
        var comment: String

        @Option(help: "Who adds it; the login name by default.")
        var author: String?

        func run() async throws {
            var parsed: [LabelMatcher] = []
            for text in matchers {
                do {
                    parsed.append(try LabelMatcher(parsing: text))
                } catch {
                    throw SilenceCommand.fail("--match \(error)")
                }
            }
            let now = Date()
            var startsAt = now
            if let starts {
                guard let instant = InstantText.parse(starts) else { throw SilenceCommand.fail("--starts: '\(starts)' is not YYYY-MM-DD or an ISO 8601 instant") }
                startsAt = instant
            }
            let endsAt: Date
            switch (until, duration) {
            case (let until?, nil):
                if until.count <= 10, let day = CivilDate(until) {
                    endsAt = day.adding(days: 1).startInstant()
                } else if let instant = try? Date(until, strategy: .iso8601) {
                    endsAt = instant
                } else {
                    throw SilenceCommand.fail("--until: '\(until)' is not YYYY-MM-DD or an ISO 8601 instant")
                }
            case (nil, let text?):
                guard let length = DurationText.parse(text), length > .zero else { throw SilenceCommand.fail("--for: '\(text)' is not a duration such as 14d or 12h") }
                endsAt = startsAt.addingTimeInterval(length.seconds)
            default:
                throw SilenceCommand.fail("give exactly one of --until and --for")
            }
            let environment = ProcessInfo.processInfo.environment
            let silence: Silence
            do {
                silence = try Silence(matchers: parsed, startsAt: startsAt, endsAt: endsAt,
                                      createdBy: author ?? environment["SUDO_USER"] ?? environment["USER"] ?? "ntmwatch",
                                      comment: comment, updatedAt: now)
            } catch {
                throw SilenceCommand.fail(error.description)
            }
            let state = try await SilenceCommand.open(common)
            do {
                try await state.save([silence])
                let matching = try await state.activeAlerts().filter { silence.matchers.matches($0.notificationLabels) }
                await state.close()
                // Unbuffered, so the id comes before the warnings on stderr: scripts read its first line.
                FileHandle.standardOutput.write(Data("\(silence.id)\n".utf8))
                if matching.isEmpty {
                    FileHandle.standardError.write(Data((common.language == .vi
                        ? "cảnh báo: hiện không có cảnh báo nào khớp \(parsed.map(\.description).joined(separator: ",")); vẫn đã tạo lệnh tạm dừng\n"
                        : "warning: no current alert matches \(parsed.map(\.description).joined(separator: ",")); the silence was created anyway\n").utf8))
                } else {
                    common.say("Tạm dừng \(matching.count) cảnh báo đang theo dõi.", "Mutes \(matching.count) tracked alerts.")
                }
                if endsAt <= now {
                    FileHandle.standardError.write(Data((common.language == .vi
                        ? "cảnh báo: lệnh tạm dừng đã kết thúc trước bây giờ; nó chỉ có tác dụng khi chạy lại một ngày đã qua (--at)\n"
                        : "warning: the silence has already ended; it only applies to runs of past days (--at)\n").utf8))
                }
            } catch {
                await state.close()
                throw error
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê lệnh tạm dừng / list silences.")
        @OptionGroup var common: Common

        @Flag(help: "Include expired silences.")
        var expired = false

        func run() async throws {
            let now = Date()
            let shown = try await SilenceCommand.silences(common, expired: expired, at: now)
            for silence in shown { print(SilenceCommand.describe(silence, common: common, now: now)) }
            if shown.isEmpty { common.say("Không có lệnh tạm dừng.", "No silences.") }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kết thúc lệnh tạm dừng ngay / end silences now.")
        @OptionGroup var common: Common

        @Argument(help: "Silence ids.")
        var ids: [String]

        func run() async throws {
            let state = try await SilenceCommand.open(common)
            let now = Date()
            var silences = try await state.silences()
            var changed: [Silence] = []
            var missing: [String] = []
            for id in ids {
                guard let index = silences.firstIndex(where: { $0.id == id }) else { missing.append(id); continue }
                // As Alertmanager: a silence that has not started ends before it starts.
                if silences[index].startsAt > now { silences[index].startsAt = now }
                if silences[index].endsAt > now { silences[index].endsAt = now }
                silences[index].updatedAt = now
                changed.append(silences[index])
            }
            try await state.save(changed)
            await state.close()
            for silence in changed { common.say("Đã kết thúc \(silence.id).", "Expired \(silence.id).") }
            if !missing.isEmpty { throw SilenceCommand.fail("no silence with id \(missing.joined(separator: ", ")); see ntmwatch silence list --expired") }
        }
    }

    struct ImportFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Nhập lệnh tạm dừng từ JSON của Alertmanager / import silences from Alertmanager's JSON (amtool silence query -o json).")
        @OptionGroup var common: Common

        @Argument(help: "The JSON file: an array of silences, or one silence.")
        var file: String

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw SilenceCommand.fail("cannot read \(file)") }
            let decoded: [AlertmanagerSilence]
            do {
                if let array = try? JSONDecoder().decode([AlertmanagerSilence].self, from: data) {
                    decoded = array
                } else {
                    decoded = [try JSONDecoder().decode(AlertmanagerSilence.self, from: data)]
                }
            } catch {
                throw SilenceCommand.fail("\(file): not Alertmanager silence JSON: \(error)")
            }
            var silences: [Silence] = []
            for (index, entry) in decoded.enumerated() {
                do {
                    silences.append(try entry.silence(position: "\(file): [\(index)]"))
                } catch {
                    throw SilenceCommand.fail(error.description)
                }
            }
            let state = try await SilenceCommand.open(common)
            try await state.save(silences)
            await state.close()
            common.say("Đã nhập \(silences.count) lệnh tạm dừng.", "Imported \(silences.count) silences.")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Xuất lệnh tạm dừng ra JSON của Alertmanager / export silences as Alertmanager's JSON.")
        @OptionGroup var common: Common

        @Flag(help: "Include expired silences.")
        var expired = false

        func run() async throws {
            let now = Date()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let exported = try await SilenceCommand.silences(common, expired: expired, at: now).map { AlertmanagerSilence($0, at: now) }
            print(String(decoding: try encoder.encode(exported), as: UTF8.self))
        }
    }
}

/// `ntmwatch digest`: prints the digest a receiver gets (or got) for the period ending last
/// before an instant. Reads only; nothing is sent or recorded.
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "In bản tin cảnh báo của một receiver / print a receiver's alert digest.")
    @OptionGroup var common: Common

    @Option(help: "The receiver's name.")
    var receiver: String

    @Option(help: "ISO 8601 instant or YYYY-MM-DD (Vietnam time); now by default.")
    var at: String?

    @Flag(help: "Print the HTML version instead of the text.")
    var html = false

    func run() async throws {
        let configuration = try common.loadConfiguration()
        guard let found = configuration.receivers.first(where: { $0.name == receiver }) else {
            throw ValidationError("no receiver named '\(receiver)' in \(configuration.path)")
        }
        guard let settings = found.digest else {
            throw ValidationError("the receiver '\(receiver)' has no digest: add digest: {schedule: \"daily 07:30\"} to it in \(configuration.path)")
        }
        var instant = Date()
        if let at {
            guard let parsed = InstantText.parse(at) else { throw ValidationError("--at: '\(at)' is not an ISO 8601 instant or YYYY-MM-DD") }
            instant = parsed
        }
        guard let state = try await AlertStateStore.openReadOnly(directory: configuration.stateDirectory) else {
            common.say("Chưa có trạng thái cảnh báo trong \(configuration.stateDirectory).", "No alert state in \(configuration.stateDirectory) yet.")
            return
        }
        let store = Store(location: configuration.store.location, queryTimeout: configuration.store.queryTimeout, logger: common.quietLogger)
        let digest = try await state.closing {
            try await DigestBuilder.build(
                receiver: receiver, schedule: settings.schedule, periodEnd: settings.schedule.due(atOrBefore: instant),
                route: configuration.route, state: $0, store: store)
        }
        let model = digest.model(instance: configuration.instance, language: configuration.language)
        print(html ? settings.templates.html.render(model) : settings.templates.text.render(model))
    }
}
