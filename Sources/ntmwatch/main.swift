import ArgumentParser
import CheckKit
import Foundation
import Logging
import NTMStore
import NTMAlerting
import NTMDelivery
import NTMWatchCore

@main
struct NTMWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntmwatch",
        abstract: "Công cụ vận hành ntmwatch / the ntmwatch operator's tool.",
        subcommands: [CheckConfig.self, Evaluate.self, Modules.self, Alerts.self, SilenceCommand.self, DigestCommand.self, Migrate.self, Import.self, NewModule.self])
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

    func say(_ vi: String, _ en: String) { print(language == .vi ? vi : en) }

    func loadConfiguration() throws -> Configuration {
        do {
            return try ConfigLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("\(error.text(in: language))\n".utf8))
            throw ExitCode(78)
        }
    }

    var quietLogger: Logger {
        var logger = Logger(label: "ntmwatch")
        logger.logLevel = .warning
        return logger
    }
}

extension Language: ExpressibleByArgument {}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Kiểm tra tệp cấu hình và thiết lập của từng mô-đun / validate the configuration and every module's settings.")
    @OptionGroup var common: Common

    func run() async throws {
        let configuration = try common.loadConfiguration()
        let runtime = Runtime.build(configuration)
        for problem in runtime.problems {
            let place = problem.line.map { "\(configuration.path):\($0): " } ?? ""
            FileHandle.standardError.write(Data("\(place)\(problem.subject): \(problem.reason)\n".utf8))
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
            FileHandle.standardError.write(Data("ntmwatch: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let results = try await evaluator.evaluate(at: instant, checkName: module)
        if let module, results.isEmpty {
            FileHandle.standardError.write(Data("no check or module named '\(module)'\n".utf8))
            throw ExitCode(2)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var failed = false
        for result in results {
            switch result.outcome {
            case .failed(let reason):
                failed = true
                FileHandle.standardError.write(Data("\(result.check): \(reason)\n".utf8))
            case .timedOut:
                failed = true
                FileHandle.standardError.write(Data("\(result.check): timed out\n".utf8))
            case .cancelled:
                failed = true
                FileHandle.standardError.write(Data("\(result.check): cancelled\n".utf8))
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
                        values: finding.values.mapValues(\.plain), summary: finding.summary.vi, summary_en: finding.summary.en)
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
            FileHandle.standardError.write(Data("ntmwatch new-module: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Liệt kê trạng thái cảnh báo / list alert states.")
    @OptionGroup var common: Common

    @Flag(help: "Include resolved alerts.")
    var all = false

    func run() async throws {
        let configuration = try common.loadConfiguration()
        var alerts: [Alert] = []
        if let state = try await AlertStateStore.openReadOnly(directory: configuration.stateDirectory, logger: common.quietLogger) {
            alerts = all ? try await state.allAlerts() : try await state.activeAlerts()
            await state.close()
        }
        for alert in alerts {
            let since = Value.instant(alert.firingSince ?? alert.activeSince).formatted(in: common.language)
            var muted = ""
            if let silences = alert.silencedBy {
                muted = common.language == .vi ? "\ttạm dừng bởi \(silences.joined(separator: ","))" : "\tsilenced by \(silences.joined(separator: ","))"
            } else if let source = alert.inhibitedBy {
                muted = common.language == .vi ? "\tbị chặn bởi cảnh báo \(source)" : "\tinhibited by alert \(source)"
            }
            print("\(alert.status.rawValue)\t\(alert.severity.rawValue)\t\(alert.ruleID)\t\(alert.subject.name)\t\(since)\t\(alert.summary.text(in: common.language))\(muted)")
        }
        if alerts.isEmpty { common.say("Không có cảnh báo.", "No alerts.") }
    }
}

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
        abstract: "Nhập dữ liệu từ CSV/JSON, tất cả hoặc không gì cả / import CSV or JSON, all or nothing.",
        discussion: "Kinds: " + ImportKind.allCases.map(\.rawValue).joined(separator: ", ") + ", or 'folder' for a folder of <kind>.csv files.")
    @OptionGroup var common: Common

    @Argument(help: "What the file holds.")
    var kind: String

    @Argument(help: "The CSV or JSON file (or folder, for 'folder').")
    var file: String

    @Flag(help: "Report what would change and write nothing.")
    var dryRun = false

    func run() async throws {
        let configuration = try common.loadConfiguration()
        let store = Store(location: configuration.store.location, logger: common.quietLogger)
        try await store.requireCurrentSchema()
        let importer = Importer(store: store)
        do {
            let reports: [ImportReport]
            if kind == "folder" {
                reports = try await importer.importFolder(file, dryRun: dryRun)
            } else {
                guard let importKind = ImportKind(rawValue: kind) else {
                    throw ValidationError("unknown kind '\(kind)'; kinds: \(ImportKind.allCases.map(\.rawValue).joined(separator: ", ")), folder")
                }
                reports = [try await importer.importFile(importKind, path: file, dryRun: dryRun)]
            }
            for report in reports {
                let prefix = report.dryRun ? (common.language == .vi ? "(thử) " : "(dry run) ") : ""
                common.say("\(prefix)\(report.file): thêm \(report.inserted), cập nhật \(report.updated), không đổi \(report.unchanged)",
                           "\(prefix)\(report.file): \(report.inserted) inserted, \(report.updated) updated, \(report.unchanged) unchanged")
            }
        } catch let error as ImportError {
            FileHandle.standardError.write(Data((error.message(in: common.language) + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
