import CheckKit
import Foundation
import Testing

/// A compiled module carries the SDK's types as they were when it was built. When a public type's
/// layout or a public declaration changes, modules built before no longer fit, and
/// `ModuleExport.abiVersion` must be raised so that the loader refuses them instead of crashing.
///
/// `Sources/CheckKit/ABI/ABI-<n>.txt` records, for ABI `n`, the size, stride and alignment of every public value
/// type and a hash of the SDK's public declarations. This test fails when they differ from the
/// table of the current ABI number. While ABI `n` is unreleased (the wave that raised it), write
/// the table again: `NTMWATCH_WRITE_ABI=1 swift test --skip-build --filter ABILayoutTests` writes
/// it (two branches that both change the SDK in one wave each regenerate it after merging); once
/// released, its table is frozen: raise the ABI number and add `ABI-<n+1>.txt`.
@Suite struct ABILayoutTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let sdkSources = "\(repository)/Sources/CheckKit/Sources/CheckKit"

    static func layout<T>(_ name: String, _ type: T.Type) -> String {
        "\(name) \(MemoryLayout<T>.size) \(MemoryLayout<T>.stride) \(MemoryLayout<T>.alignment)"
    }

    /// Every public type a module holds or passes by value.
    static var layouts: [String] {
        [
            layout("AdministrativeUnit", AdministrativeUnit.self), layout("Assessment", Assessment.self),
            layout("BadData", BadData.self), layout("Setting<T>", Setting<Int>.self),
            layout("BudgetLevel", BudgetLevel.self), layout("CapitalPlan", CapitalPlan.self),
            layout("CapitalPlan.Disbursed", CapitalPlan.Disbursed.self), layout("CheckLogger", CheckLogger.self),
            layout("CheckLogger.Level", CheckLogger.Level.self), layout("CivilDate", CivilDate.self),
            layout("CriteriaSet", CriteriaSet.self), layout("Criterion", Criterion.self),
            layout("Criterion.Direction", Criterion.Direction.self), layout("Criterion.Measure", Criterion.Measure.self),
            layout("CriterionResult", CriterionResult.self), layout("DossierSubmission", DossierSubmission.self),
            layout("DossierSubmission.Stage", DossierSubmission.Stage.self), layout("EvaluationContext", EvaluationContext.self),
            layout("Finding", Finding.self), layout("Language", Language.self), layout("LocalizedText", LocalizedText.self),
            layout("ModuleDescriptor", ModuleDescriptor.self), layout("Obligation", Obligation.self),
            layout("Obligation.Completion", Obligation.Completion.self), layout("Obligation.DueSemantics", Obligation.DueSemantics.self),
            layout("Obligation.Schedule", Obligation.Schedule.self), layout("Project", Project.self),
            layout("Project.Debt", Project.Debt.self), layout("Project.Disbursement", Project.Disbursement.self),
            layout("Project.RepaymentPlan", Project.RepaymentPlan.self), layout("ProvinceTarget", ProvinceTarget.self),
            layout("ReallocationReport", ReallocationReport.self), layout("Recognition", Recognition.self),
            layout("RoadmapEntry", RoadmapEntry.self), layout("Rule", Rule.self), layout("RuleSource", RuleSource.self),
            layout("SatisfactionSurvey", SatisfactionSurvey.self), layout("SettingSpec", SettingSpec.self),
            layout("SettingValue", SettingValue.self), layout("Settings", Settings.self), layout("SettingsError", SettingsError.self),
            layout("Severity", Severity.self), layout("Standing", Standing.self), layout("StoreRow", StoreRow.self),
            layout("Subject", Subject.self), layout("Value", Value.self),
        ]
    }

    /// The SDK's public declarations, one per line with spaces collapsed and in file order, and
    /// the enum cases (which are layout too); function bodies and comments do not count.
    static func declarations() throws -> [String] {
        var lines: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: sdkSources).filter({ $0.hasSuffix(".swift") }).sorted() {
            var above = ""
            for raw in try String(contentsOfFile: "\(sdkSources)/\(file)", encoding: .utf8).split(separator: "\n") {
                var line = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                defer { if !line.isEmpty { above = line } }
                // A constant's value is not its declaration: `CheckKit.version` moves with every release.
                if line.hasPrefix("public static let ") || line.hasPrefix("public let "), let value = line.range(of: " = ") {
                    line = String(line[..<value.lowerBound])
                }
                line = Self.bodyLeftOut(line, above: above)
                let isPublic = line.hasPrefix("public ") || line.hasPrefix("@inlinable public ") || line.hasPrefix("open ")
                let isCase = line.range(of: "^case [A-Za-z_]", options: .regularExpression) != nil
                    && !line.hasPrefix("case let ") && !line.hasPrefix("case var ")
                if isPublic || isCase { lines.append("\(file): \(line)") }
            }
        }
        return lines
    }

    /// A body written on a function's, initializer's, property's or subscript's own line
    /// (`{ UnitMap(try await units()) }`) is the SDK's code, as when it stands on the lines below:
    /// it counts as `{ … }`, so a body's presence still does (a stored property turned computed).
    /// Kept whole: accessor blocks (a setter added or removed is a declaration change), and a body
    /// under an attribute on the line above (`@inlinable`, `@_alwaysEmitIntoClient`: modules
    /// compile those). The body starts at the first brace outside parentheses and brackets, so a
    /// closure default argument does not cut the parameter list.
    static func bodyLeftOut(_ line: String, above: String) -> String {
        guard line.hasPrefix("public "), line.hasSuffix("}"), !above.hasPrefix("@"),
              line.dropFirst("public ".count).replacing(/^((static|mutating|nonisolated|override|final) )*/, with: "")
                  .range(of: "^(func |init|var |subscript)", options: .regularExpression) != nil else { return line }
        var depth = 0
        for index in line.indices {
            switch line[index] {
            case "(", "[": depth += 1
            case ")", "]": depth -= 1
            case "{" where depth == 0:
                let body = line[line.index(after: index)...].drop { $0 == " " }
                let accessors = ["get", "set", "_read", "_modify", "willSet", "didSet", "unsafeAddress", "unsafeMutableAddress"]
                if accessors.contains(where: { body.hasPrefix($0) }) { return line }
                return String(line[..<index]).trimmingCharacters(in: .whitespaces) + " { … }"
            default: break
            }
        }
        return line
    }

    /// FNV-1a over the declarations: stable across machines and runs, unlike `Hasher`.
    static func fingerprint(_ lines: [String]) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in lines.joined(separator: "\n").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return String(format: "%016llx", hash)
    }

    static func table() throws -> String {
        (["abi \(ModuleExport.abiVersion)", "declarations \(fingerprint(try declarations()))"] + layouts).joined(separator: "\n") + "\n"
    }

    @Test func thePublicTypesMatchTheTableOfTheCurrentABI() throws {
        let path = "\(Self.repository)/Sources/CheckKit/ABI/ABI-\(ModuleExport.abiVersion).txt"
        let computed = try Self.table()
        if ProcessInfo.processInfo.environment["NTMWATCH_WRITE_ABI"] == "1" {
            try computed.write(toFile: path, atomically: true, encoding: .utf8)
        }
        guard let recorded = try? String(contentsOfFile: path, encoding: .utf8) else {
            Issue.record("no \(path): write it with\n\(computed)")
            return
        }
        let changed = Set(computed.split(separator: "\n")).symmetricDifference(recorded.split(separator: "\n")).sorted()
        #expect(recorded == computed, """
            The SDK's public types differ from ABI \(ModuleExport.abiVersion) as recorded (\(changed.joined(separator: "; "))).
            If ABI \(ModuleExport.abiVersion) is released, raise ModuleExport.abiVersion and add its table; if not, \
            replace \(path) with:
            \(computed)
            """)
    }

    @Test func theFingerprintNoticesADeclarationChange() throws {
        let declarations = try Self.declarations()
        // A one-line body is left out; the declaration before it is kept, and that it has a body.
        #expect(declarations.contains { $0.hasSuffix("UnitMap.swift: public func unitMap() async throws -> UnitMap { … }") })
        #expect(Self.bodyLeftOut("public var x: Int { get { a } set { a = newValue } }", above: "") == "public var x: Int { get { a } set { a = newValue } }")
        #expect(Self.bodyLeftOut("public func f() -> Int { 1 }", above: "@inlinable") == "public func f() -> Int { 1 }")
        #expect(Self.bodyLeftOut("public func f(_ g: () -> Int = { 0 }, h: Int) -> Int { g() + h }", above: "")
                == "public func f(_ g: () -> Int = { 0 }, h: Int) -> Int { … }")
        #expect(declarations.contains { $0.contains("public let source: RuleSource?") })
        var changed = declarations
        changed[0] += " "
        #expect(Self.fingerprint(changed) != Self.fingerprint(declarations))
    }

    @Test func theVersionsAgree() {
        #expect(CheckKit.version.hasPrefix("\(ModuleExport.abiVersion)."))
    }
}
