import CheckKit
import Foundation

/// A check module for the daemon's own tests: flags every commune whose region is the
/// `flag_region` setting, so a test changes the findings by changing data or settings. `mode`
/// makes it fail (`throw`) or hang (`hang`) to test how the daemon copes.
struct TestCheck: CheckModule {
    static let flagged = Rule(
        id: "testcheck.commune_flagged",
        title: LocalizedText(vi: "Xã bị đánh dấu", en: "Commune flagged"),
        defaultSeverity: .warning,
        messageID: "0f6a4a2e1c9b4d3f8e7d6c5b4a392817",
        template: LocalizedText(vi: "Xã {subject} cần xử lý trước ngày {due_date}, số tiền {amount_vnd}",
                                en: "Commune {subject} needs action before {due_date}, amount {amount_vnd}"),
        source: RuleSource("002", "IV.10"))

    enum Options {
        static let flagRegion = Setting<String>("flag_region", .text(choices: ["plains", "midland", "mountain"]), default: "mountain",
                                                help: "Communes of this region are flagged.")
        static let mode = Setting<String>("mode", .text(choices: ["ok", "throw", "hang"]), default: "ok", help: "ok, throw or hang.")
        static let severity = Setting<String>("severity", .text(choices: Severity.allCases.map(\.rawValue)), default: "warning",
                                              help: "Severity of the findings.")
    }

    var descriptor: ModuleDescriptor {
        ModuleDescriptor(
            name: "testcheck", version: "1.0.0",
            summary: LocalizedText(vi: "Mô-đun kiểm thử", en: "Test module"),
            settings: [Options.flagRegion.spec, Options.mode.spec, Options.severity.spec],
            rules: [Self.flagged])
    }

    struct DeliberateFailure: Error, CustomStringConvertible {
        var description: String { "deliberate failure of the test module" }
    }

    func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
        switch try context.settings[Options.mode] {
        case "throw": throw DeliberateFailure()
        case "hang": try await Task.sleep(for: .seconds(3600))
        default: break
        }
        let region = try context.settings[Options.flagRegion]
        let severity = Severity(rawValue: try context.settings[Options.severity]) ?? .warning
        return try await context.store.units()
            .filter { $0.level == "commune" && $0.region == region }
            .map { unit in
                Finding(rule: Self.flagged, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id),
                        severity: severity, values: ["due_date": .date(context.today.adding(days: 7)), "amount_vnd": .amountVND(1_234_567_000)])
            }
    }
}

@_cdecl("ntmwatch_module_abi")
public func ntmwatchModuleABI() -> UInt32 { ModuleExport.abiVersion }

@_cdecl("ntmwatch_module_create")
public func ntmwatchModuleCreate() -> UnsafeMutableRawPointer { ModuleExport.export(TestCheck()) }
