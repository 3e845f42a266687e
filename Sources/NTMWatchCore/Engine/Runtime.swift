import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery

/// A configured check ready to run: its module, validated settings and schedule.
public struct ConfiguredCheck: Sendable {
    public let name: String
    public let module: LoadedModule
    public let settings: Settings
    public let interval: Duration
    public let timeout: Duration
    public let severity: [String: Severity]
    public let pendingFor: [String: Duration]
}

/// A check or module file that cannot run, reported as `ntmwatch.module_failed`.
public struct CheckProblem: Sendable, Hashable {
    /// The check's name, or the module file's path when the file itself failed.
    public let subject: String
    public let reason: String
    public let line: Int?
}

/// Configuration plus loaded modules: the checks that can run and the problems of the others.
public struct Runtime: Sendable {
    public let configuration: Configuration
    public let modules: [LoadedModule]
    public let checks: [ConfiguredCheck]
    public let problems: [CheckProblem]

    /// Loads the modules of the configuration and validates each check's settings. A problem of
    /// one check never stops the others.
    public static func build(_ configuration: Configuration, loader: ModuleLoader? = nil) -> Runtime {
        let (modules, failures) = (loader ?? ModuleLoader(directories: configuration.moduleDirectories,
                                                          store: configuration.store.location)).loadAll()
        var problems = failures.map { CheckProblem(subject: $0.path, reason: $0.reason, line: nil) }
        var checks: [ConfiguredCheck] = []
        let byName = Dictionary(modules.map { ($0.descriptor.name, $0) }, uniquingKeysWith: { a, _ in a })
        for check in configuration.checks {
            guard let module = byName[check.module] else {
                problems.append(.init(subject: check.name, reason: "module '\(check.module)' is not loaded (loaded: "
                                      + "\(byName.keys.sorted().joined(separator: ", ")))", line: check.line))
                continue
            }
            let rules = Set(module.descriptor.rules.map(\.id))
            if let unknown = (Array(check.severity.keys) + Array(check.pendingFor.keys)).sorted().first(where: { !rules.contains($0) }) {
                problems.append(.init(subject: check.name, reason: "module '\(check.module)' has no rule '\(unknown)'", line: check.line))
                continue
            }
            do {
                let settings = try Settings(specs: module.descriptor.settings, provided: check.settings)
                try module.module.validate(settings)
                checks.append(ConfiguredCheck(
                    name: check.name, module: module, settings: settings, interval: check.interval, timeout: check.timeout,
                    severity: check.severity, pendingFor: check.pendingFor))
            } catch {
                problems.append(.init(subject: check.name, reason: "settings: \(error)", line: check.line))
            }
        }
        // A manifest module runs on its own once its file is in a module folder: dropping the file
        // in and reloading is all an operator does. A `checks:` entry naming it overrides this.
        let configured = Set(configuration.checks.map(\.module))
        for module in modules where module.kind != .library && !configured.contains(module.descriptor.name) {
            do {
                checks.append(ConfiguredCheck(
                    name: module.descriptor.name, module: module, settings: try Settings(specs: module.descriptor.settings, provided: [:]),
                    interval: module.defaultInterval ?? configuration.defaultInterval,
                    timeout: module.defaultTimeout ?? configuration.defaultTimeout, severity: [:], pendingFor: [:]))
            } catch {
                problems.append(.init(subject: module.path, reason: "settings: \(error)", line: nil))
            }
        }
        return Runtime(configuration: configuration, modules: modules, checks: checks, problems: problems)
    }
}

/// The daemon's own rules, raised about modules and checks.
public enum MetaRules {
    public static let moduleFailed = Rule(
        id: "ntmwatch.module_failed",
        title: LocalizedText(vi: "Mô-đun kiểm tra bị lỗi", en: "Check module failed"),
        defaultSeverity: .error, messageID: "5b1f4c1e8d0a4a4e9c3e7a2b6f0d9c11",
        template: LocalizedText(vi: "Kiểm tra {subject} không chạy được: {reason}", en: "Check {subject} could not run: {reason}"),
        source: RuleSource("ntmwatch", "How the pieces fit"))
    public static let moduleTimeout = Rule(
        id: "ntmwatch.module_timeout",
        title: LocalizedText(vi: "Mô-đun kiểm tra chạy quá thời gian", en: "Check module timed out"),
        defaultSeverity: .error, messageID: "9e2d7b3a6c4f4f0b8a1d5e6c7b8a9f22",
        template: LocalizedText(vi: "Kiểm tra {subject} chạy quá {timeout} và đã bị hủy", en: "Check {subject} ran longer than {timeout} and was cancelled"),
        source: RuleSource("ntmwatch", "How the pieces fit"))

    public static let deliveryFailed = Rule(
        id: "ntmwatch.delivery_failed",
        title: LocalizedText(vi: "Không gửi được thông báo", en: "Notifications could not be delivered"),
        defaultSeverity: .error, messageID: "c4a1d0e2f35b4b7e9a06d8f1e2b3c4d5",
        template: LocalizedText(vi: "Không gửi được {dead_letters} thông báo tới nơi nhận {subject}: {reason}",
                                en: "{dead_letters} notifications could not be delivered to receiver {subject}: {reason}"),
        source: RuleSource("ntmwatch", "How the pieces fit"))

    public static let all = [moduleFailed, moduleTimeout, deliveryFailed]
}
