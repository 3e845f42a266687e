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

    @Test func everyEntryShowsItsRulesSourceInBothLanguages() throws {
        let text = try String(contentsOfFile: Self.catalog, encoding: .utf8)
        // Entries are separated by their "-- ID [lang]" lines.
        var bodies: [String: String] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- ") { current = String(line.dropFirst(3)); continue }
            if let current { bodies[current, default: ""] += line + "\n" }
        }
        for rule in try declaredRules() {
            let source = try #require(rule.source, "\(rule.id) declares no source")
            #expect(bodies[rule.messageID]?.contains("Căn cứ: \(source)") == true, "\(rule.id): no 'Căn cứ: \(source)' in its entry")
            #expect(bodies["\(rule.messageID) en"]?.contains("Source: \(source)") == true, "\(rule.id): no 'Source: \(source)' in its English entry")
        }
    }

    @Test func everyCitedSectionExistsInTheCitedDocument() throws {
        let seeds = "\(Sandbox.repository)/Tests/Seeds"
        let files = try FileManager.default.contentsOfDirectory(atPath: seeds).filter { $0.hasSuffix(".txt") }
        let readme = try String(contentsOfFile: "\(Sandbox.repository)/README.md", encoding: .utf8)
        for rule in try declaredRules() {
            guard let source = rule.source else { continue }   // reported by the test above
            if source.document == "ntmwatch" {
                #expect(readme.contains("\n## \(source.section)\n"), "\(rule.id): README.md has no section '\(source.section)'")
                continue
            }
            let file = try #require(files.first { $0.hasPrefix("\(source.document)_") }, "\(rule.id): no seed document \(source.document)")
            let text = try String(contentsOfFile: "\(seeds)/\(file)", encoding: .utf8)
            #expect(SeedSections.find(source.section, in: text) != nil, "\(rule.id): \(source) is not a section of \(file)")
        }
    }

    @Test func theSectionFinderFollowsTheDocumentsNumbering() throws {
        let text = try String(contentsOfFile: "\(Sandbox.repository)/Tests/Seeds/002_5c745609a7f448fa.txt", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let ii6 = try #require(SeedSections.find("II.6", in: text))
        #expect(lines[ii6].hasPrefix("6. Thôn NTM kiểu mẫu"))
        let iv9 = try #require(SeedSections.find("IV.9", in: text))
        #expect(lines[iv9].hasPrefix("9. Xử lý nợ xây dựng cơ bản"))
        let iv4c = try #require(SeedSections.find("IV.4.c", in: text))
        #expect(lines[iv4c].hasPrefix("c) Đối với các xã đã đạt chuẩn NTM"))
        // II has no 8th item (the 8th is under IV), IV has no 11th, and no "IV.9.z".
        #expect(SeedSections.find("II.8", in: text) == nil)
        #expect(SeedSections.find("IV.11", in: text) == nil)
        #expect(SeedSections.find("IV.9.z", in: text) == nil)
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

/// Finds a section such as `IV.4.c` in a seed: the line that starts `IV.`, then under it (before
/// the next roman heading) the line that starts `4.`, then under that the line that starts `c)`.
enum SeedSections {
    /// The line index of the section's heading, or nil when the document has no such section.
    static func find(_ section: String, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var start = 0, end = lines.count
        for part in section.split(separator: ".").map(String.init) {
            guard let kind = Kind(part) else { return nil }
            guard let found = (start..<end).first(where: { kind.heads(lines[$0], part) }) else { return nil }
            // The section ends where the next heading of the same kind begins.
            let next = (found + 1..<end).first { kind.heads(lines[$0], nil) } ?? end
            start = found
            end = next
        }
        return start
    }

    enum Kind {
        case roman, number, letter

        init?(_ part: String) {
            if part.allSatisfy({ "IVX".contains($0) }) { self = .roman }
            else if part.allSatisfy(\.isNumber) { self = .number }
            else if let first = part.first, first.isLetter, first.isLowercase { self = .letter }
            else { return nil }
        }

        /// Whether `line` is a heading of this kind (numbered `part`, or any when nil).
        func heads(_ line: String, _ part: String?) -> Bool {
            let pattern: String = switch self {
            case .roman: "^\(part ?? "[IVX]+")\\. "
            case .number: "^\(part ?? "[0-9]+")\\.( |$)"
            case .letter: "^\(part ?? "[a-zđ][0-9]?")\\) "
            }
            return line.range(of: pattern, options: .regularExpression) != nil
        }
    }
}
