import CheckKit
import Foundation
import Testing
@testable import NTMWatchCore

/// Each module's sample settings (`Plugins/<name>/<name>.yaml`) say "the values below are the
/// defaults": they list every setting, and each value is the module's default.
@Suite struct SampleSettingsTests {
    @Test func everyModulesSampleListsEverySettingAtItsDefault() throws {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        let plugins = try FileManager.default.contentsOfDirectory(atPath: "\(Sandbox.repository)/Plugins").sorted()
        for plugin in plugins { try sandbox.installModule("libntmwatch-\(plugin).so") }
        let (modules, failures) = ModuleLoader(directories: [sandbox.path("modules")]).loadAll()
        #expect(failures.isEmpty, "\(failures)")
        #expect(modules.count == plugins.count)
        for module in modules {
            let descriptor = module.descriptor
            let sample = "\(Sandbox.repository)/Plugins/\(descriptor.name)/\(descriptor.name).yaml"
            // The sample is a `checks:` list; read it as the configuration would.
            let text = "checks:\n" + (try String(contentsOfFile: sample, encoding: .utf8))
                .split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
            let wrapped = sandbox.path("\(descriptor.name)-sample.yaml")
            try text.write(toFile: wrapped, atomically: true, encoding: .utf8)
            let checks = try #require(try ManifestHeader.section(path: wrapped).sequence("checks"))
            let entry = try YAMLSection(try #require(checks.first), path: "checks[0]", file: sample)
            guard case .table(let given)? = entry["settings"].map(YAMLSection.settingValue) else {
                Issue.record("\(sample) has no settings table"); continue
            }
            #expect(Set(given.keys) == Set(descriptor.settings.map(\.key)), "\(sample) lists \(given.keys.sorted())")
            let parsed = try Settings(specs: descriptor.settings, provided: given)
            let defaults = try Settings(specs: descriptor.settings, provided: [:])
            for spec in descriptor.settings {
                let written = try parsed.value(spec.key), expected = try defaults.value(spec.key)
                #expect(Self.same(written, expected), "\(sample): \(spec.key) is \(written), the default is \(expected)")
            }
        }
    }

    /// Equal values, a YAML `90` being the same as a default of 90.0 inside tables and lists too.
    static func same(_ a: SettingValue, _ b: SettingValue) -> Bool {
        switch (a, b) {
        case (.integer(let i), .number(let d)), (.number(let d), .integer(let i)): return Double(i) == d
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.table(let x), .table(let y)):
            return Set(x.keys) == Set(y.keys) && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: return a == b
        }
    }
}
