import CheckKit
import Foundation
import Testing
import NTMAlerting
import NTMDelivery
@testable import NTMWatchCore

/// `Deploy/catalog/ntmwatch.catalog` explains every MESSAGE_ID the daemon, the built-in modules
/// and the shipped SQL modules use, in Vietnamese and English, in a form journald accepts.
@Suite struct CatalogTests {
    static let catalog = "\(Sandbox.repository)/Deploy/catalog/ntmwatch.catalog"

    /// id → languages with an entry ("" is the default, Vietnamese).
    func entries() throws -> [String: Set<String>] {
        var entries: [String: Set<String>] = [:]
        for line in try String(contentsOfFile: Self.catalog, encoding: .utf8).split(separator: "\n") where line.hasPrefix("-- ") {
            let parts = line.dropFirst(3).split(separator: " ")
            entries[String(parts[0]), default: []].insert(parts.count > 1 ? String(parts[1]) : "")
        }
        return entries
    }

    func declaredRules() throws -> [Rule] {
        let sandbox = try Sandbox(); defer { sandbox.remove() }
        // The built-in modules are the folders under Plugins/ (not whatever else the build folder holds).
        let plugins = try FileManager.default.contentsOfDirectory(atPath: "\(Sandbox.repository)/Plugins")
        for plugin in plugins { try sandbox.installModule("libntmwatch-\(plugin).so") }
        try sandbox.installShippedSQLModules()
        let (modules, failures) = ModuleLoader(directories: [sandbox.path("modules")]).loadAll()
        #expect(failures.isEmpty, "\(failures)")
        #expect(Set(modules.map(\.descriptor.name)).isSuperset(of: ["deadline", "satisfaction", "debt", "disbursement", "standards", "targets"]))
        return MetaRules.all + modules.flatMap(\.descriptor.rules)
    }

    @Test func everyMessageIDHasAVietnameseAndAnEnglishEntry() throws {
        let catalog = try entries()
        for rule in try declaredRules() {
            #expect(catalog[rule.messageID] == ["", "en"], "\(rule.id) (\(rule.messageID)) has catalog entries \(catalog[rule.messageID] ?? [])")
        }
    }

    @Test func journaldAcceptsTheCatalog() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/journalctl"))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-catalog-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/usr/lib/systemd/catalog", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/var/lib/systemd/catalog", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.catalog, toPath: "\(root)/usr/lib/systemd/catalog/ntmwatch.catalog")
        func journalctl(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try Sandbox.run("/usr/bin/journalctl", ["--root=\(root)"] + arguments,
                            environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "SYSTEMD_COLORS": "0"])
        }
        let update = try journalctl(["--update-catalog"])
        #expect(update.status == 0, "\(update.output)")
        // Without a locale of its own (C, as here and under a bare systemd), journalctl shows the
        // default entry, which is the Vietnamese one; en_* locales get the `en` entries.
        let shown = try journalctl(["--list-catalog", MetaRules.moduleFailed.messageID])
        #expect(shown.output.contains("Kiểm tra @NTMWATCH_SUBJECT_NAME@ không chạy được"), "\(shown.output)")
        let all = try journalctl(["--list-catalog"])
        #expect(all.output.split(separator: "\n").filter { $0.contains(" ntmwatch: ") }.count == Set(try entries().keys).count, "\(all.output)")
    }
}
