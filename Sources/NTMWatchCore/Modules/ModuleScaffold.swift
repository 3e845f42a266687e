import Foundation

/// `ntmwatch new-module NAME`: a new Swift check module laid out like the built-in ones, one
/// folder under `Plugins/` with its rules, entry points, README, sample settings and tests, and
/// its line in `Package.swift`'s `checkModules`, so it builds as `libntmwatch-NAME.so`.
public struct ModuleScaffold {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let name: String
    /// `water_quality` → `WaterQuality`.
    public var typeName: String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    public init(name: String) throws(Failure) {
        guard let first = name.first, first.isLetter, name.allSatisfy({ ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "_" }) else {
            throw Failure(description: "'\(name)' is not a module name: lower-case ASCII letters, digits and '_', starting with a letter")
        }
        self.name = name
    }

    /// The files to create, by path relative to the repository root.
    public var files: [(path: String, contents: String)] {
        let folder = "Plugins/\(name)"
        return [
            ("\(folder)/Sources/\(typeName)Check/\(typeName)Check.swift", checkSource),
            ("\(folder)/Sources/\(typeName)Module/Export.swift", exportSource),
            ("\(folder)/Tests/\(typeName)RuleTests.swift", testSource),
            ("\(folder)/README.md", readme),
            ("\(folder)/\(name).yaml", sampleSettings),
        ]
    }

    /// Writes the files under `root` (a checkout of this repository) and registers the module in
    /// its Package.swift. Refuses to overwrite anything.
    public func write(into root: String) throws {
        let manifestPath = (root as NSString).appendingPathComponent("Package.swift")
        guard var manifest = try? String(contentsOfFile: manifestPath, encoding: .utf8),
              let listStart = manifest.range(of: "let checkModules: [(folder: String, check: String, module: String)] = [\n"),
              let listEnd = manifest.range(of: "\n]\n", range: listStart.upperBound..<manifest.endIndex) else {
            throw Failure(description: "\(manifestPath) is not ntmwatch's Package.swift (no checkModules list); run this at the repository's root or pass --root")
        }
        if FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("Plugins/\(name)")) {
            throw Failure(description: "Plugins/\(name) already exists")
        }
        manifest.insert(contentsOf: "\n    (\"\(name)\", \"\(typeName)Check\", \"\(typeName)Module\"),", at: listEnd.lowerBound)
        for file in files {
            let path = (root as NSString).appendingPathComponent(file.path)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try file.contents.write(toFile: path, atomically: true, encoding: .utf8)
        }
        try manifest.write(toFile: manifestPath, atomically: true, encoding: .utf8)
    }

    static func newMessageID() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    var checkSource: String {
        """
        import CheckKit
        import Foundation

        /// TODO: say what this module watches and why (the document and section that asks for it).
        /// The example rule reports communes with no criteria assessment in the last months.
        public struct \(typeName)Check: CheckModule {
            public init() {}

            enum Rules {
                static let unassessed = Rule(
                    id: "\(name).unassessed", title: LocalizedText(vi: "Xã lâu chưa đánh giá tiêu chí", en: "Commune not assessed lately"),
                    defaultSeverity: .warning, messageID: "\(Self.newMessageID())",
                    template: LocalizedText(
                        vi: "{subject}: không có đánh giá tiêu chí nào trong {months} tháng qua",
                        en: "{subject}: no criteria assessment in the last {months} months"),
                    // The document and section that set the rule: shown in alerts and the catalog.
                    source: RuleSource("002", "IV.10"))
                /// Records the module cannot judge are findings, not a failed run.
                static let badData = BadData(
                    module: "\(name)", messageID: "\(Self.newMessageID())",
                    title: LocalizedText(vi: "Dữ liệu đánh giá không dùng được", en: "Unusable assessment data"),
                    record: LocalizedText(vi: "Đánh giá {subject}", en: "Assessment {subject}"),
                    fix: LocalizedText(vi: "sửa dòng này trong kho dữ liệu", en: "fix this row in the store"))
                static let all = [unassessed, badData.rule]
            }

            /// Each setting once: key, kind and range, default, help; read typed with `settings[…]`.
            enum Options {
                static let months = Setting<Int>(
                    "months", .integer(1...120), default: 12,
                    help: "A commune with no assessment newer than this many months is reported.")
                static let all = [months.spec]
            }

            public var descriptor: ModuleDescriptor {
                ModuleDescriptor(
                    name: "\(name)", version: "0.1.0",
                    summary: LocalizedText(vi: "TODO: mô tả bằng tiếng Việt", en: "TODO: describe in English"),
                    settings: Options.all,
                    rules: Rules.all)
            }

            public func evaluate(_ context: EvaluationContext) async throws -> [Finding] {
                Self.findings(today: context.today, months: try context.settings[Options.months],
                              units: try await context.store.units(), assessments: try await context.store.assessments())
            }

            /// The rule over plain values, so tests need no store.
            static func findings(today: CivilDate, months: Int, units: [AdministrativeUnit], assessments: [Assessment]) -> [Finding] {
                let known = Set(units.map(\\.id))
                let unknown = assessments.filter { !known.contains($0.unitID) }.map { assessment in
                    Rules.badData.finding(
                        Subject(kind: "assessment", id: "\\(assessment.unitID)/\\(assessment.criterionCode)", name: assessment.unitID),
                        vi: "đơn vị '\\(assessment.unitID)' không có trong danh mục", en: "the unit '\\(assessment.unitID)' is not a known unit")
                }
                let latest = Dictionary(assessments.map { ($0.unitID, $0.assessedOn) }, uniquingKeysWith: max)
                let oldest = today.adding(months: -months)
                return unknown + units.filter { $0.level == "commune" && $0.validTo == nil }.compactMap { unit in
                    if let last = latest[unit.id], last > oldest { return nil }
                    return Finding(rule: Rules.unassessed, subject: Subject(kind: "unit", id: unit.id, name: unit.name, unitID: unit.id),
                                   values: ["months": .integer(Int64(months))])
                }
            }
        }

        """
    }

    var exportSource: String {
        """
        import CheckKit
        import \(typeName)Check

        @_cdecl("ntmwatch_module_abi")
        public func ntmwatchModuleABI() -> UInt32 { ModuleExport.abiVersion }

        @_cdecl("ntmwatch_module_create")
        public func ntmwatchModuleCreate() -> UnsafeMutableRawPointer { ModuleExport.export(\(typeName)Check()) }

        """
    }

    var testSource: String {
        """
        import CheckKit
        import Testing
        @testable import \(typeName)Check

        @Suite struct \(typeName)RuleTests {
            let communes = [AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", parentID: "502")]

            @Test func aCommuneWithoutARecentAssessmentIsReported() {
                let old = Assessment(unitID: "20107", setID: "xa-ntm-2021-2025", criterionCode: "1",
                                     assessedOn: CivilDate("2023-09-30")!, met: true)
                let findings = \(typeName)Check.findings(today: CivilDate("2024-10-01")!, months: 12, units: communes, assessments: [old])
                #expect(findings.map(\\.ruleID) == ["\(name).unassessed"])
                #expect(findings.first?.summary.vi == "Đại Chánh: không có đánh giá tiêu chí nào trong 12 tháng qua")
                #expect(\(typeName)Check.findings(today: CivilDate("2024-09-29")!, months: 12, units: communes, assessments: [old]).isEmpty)
            }

            @Test func anAssessmentOfAnUnknownUnitIsBadData() {
                let stray = Assessment(unitID: "99999", setID: "xa-ntm-2021-2025", criterionCode: "1",
                                       assessedOn: CivilDate("2024-09-30")!, met: true)
                let findings = \(typeName)Check.findings(today: CivilDate("2024-10-01")!, months: 12, units: communes, assessments: [stray])
                #expect(findings.first?.ruleID == "\(name).bad_data")
                #expect(findings.first?.summary.en == "Assessment 99999: the unit '99999' is not a known unit; fix this row in the store")
            }

            @Test func theDescriptorIsSound() {
                #expect(\(typeName)Check().descriptor.problems().isEmpty)
            }
        }

        """
    }

    var readme: String {
        """
        # `\(name)` — TODO: tên tiếng Việt

        TODO: what this module watches, for whom, and the document and section that asks for it.

        ## Rules

        | Rule | Default severity | When |
        |---|---|---|
        | `\(name).unassessed` | warning | a current commune with no criteria assessment in the last `months` months |
        | `\(name).bad_data` | warning | an assessment of a unit that is not in the catalogue |

        ## Settings

        | Setting | Default | Meaning |
        |---|---|---|
        | `months` | `12` | assessments older than this do not count |

        ## Example

        `ntmwatch evaluate --at 2024-12-01 --module \(name)` on the sample province:

        ```
        TODO: paste the output
        ```

        ## Tests

        `Tests/\(typeName)RuleTests.swift` runs the rule over plain values.

        """
    }

    var sampleSettings: String {
        """
        # Sample settings for the `\(name)` module; paste under `checks:` in ntmwatch.yaml.
        - module: \(name)
          interval: 1h
          settings:
            months: 12

        """
    }
}
