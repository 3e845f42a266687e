import CheckKit
import Foundation
import Yams

/// The parts the two declarative module kinds share: a YAML file in a module folder naming the
/// module, its rules and their texts. `*.exec.yaml` wraps an executable, `*.sql.yaml` a query.
struct ManifestHeader {
    let name: String
    let title: LocalizedText
    let interval: Duration?
    let timeout: Duration?

    init(_ section: YAMLSection) throws(ConfigError) {
        name = try section.requiredString("name")
        guard ModuleDescriptor.isIdentifier(name) else {
            throw section.error(section["name"], "name", vi: "tên mô-đun chỉ gồm chữ thường, số và '_'",
                                en: "a module name is lower-case letters, digits and '_'")
        }
        title = try Self.text(section, "title") ?? LocalizedText(vi: name, en: name)
        interval = try section.duration("interval")
        timeout = try section.duration("timeout")
    }

    /// `{vi: ..., en: ...}`; English falls back to Vietnamese.
    static func text(_ section: YAMLSection, _ key: String) throws(ConfigError) -> LocalizedText? {
        guard let map = try section.stringMap(key) else { return nil }
        guard let vi = map["vi"], !vi.isEmpty else {
            throw section.error(section[key], key, vi: "cần văn bản tiếng Việt (vi)", en: "needs Vietnamese text (vi)")
        }
        return LocalizedText(vi: vi, en: map["en"] ?? vi)
    }

    static func severity(_ section: YAMLSection, _ key: String, default fallback: Severity) throws(ConfigError) -> Severity {
        guard let text = try section.string(key) else { return fallback }
        guard let severity = Severity(rawValue: text) else {
            throw section.error(section[key], key, vi: "mức độ là một trong \(Severity.allCases.map(\.rawValue).joined(separator: ", "))",
                                en: "severity is one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return severity
    }

    /// A rule declared in a manifest: `id` is the part after the module name.
    static func rule(_ section: YAMLSection, module: String, defaultID: String? = nil,
                     defaultSeverity: Severity = .warning) throws(ConfigError) -> Rule {
        let id = try section.string("id") ?? defaultID
        guard let id, ModuleDescriptor.isIdentifier(id) else {
            throw section.error(section["id"], "id", vi: "cần mã quy tắc gồm chữ thường, số và '_'", en: "needs a rule id of lower-case letters, digits and '_'")
        }
        let full = "\(module).\(id)"
        let severity = try severity(section, "severity", default: defaultSeverity)
        guard let message = try text(section, "message") else {
            throw section.error(nil, "message", vi: "thiếu mẫu thông báo {vi, en}", en: "missing the message template {vi, en}")
        }
        let messageID = try section.string("message_id") ?? MessageID.derived(from: full)
        return Rule(id: full, title: try text(section, "title") ?? LocalizedText(vi: full, en: full), defaultSeverity: severity,
                    messageID: messageID, template: message, source: try section.string("source").flatMap(RuleSource.init))
    }

    /// Loads a manifest file into its top-level section.
    static func section(path: String) throws(ConfigError) -> YAMLSection {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, line: nil, column: nil, key: nil,
                              message: LocalizedText(vi: "không đọc được tệp: \(error)", en: "cannot read the file: \(error)"))
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigError(file: path, line: nil, column: nil, key: nil,
                              message: LocalizedText(vi: "YAML không hợp lệ: \(error)", en: "invalid YAML: \(error)"))
        }
        guard let node else {
            throw ConfigError(file: path, line: nil, column: nil, key: nil, message: LocalizedText(vi: "tệp rỗng", en: "empty file"))
        }
        return try YAMLSection(node, path: "", file: path)
    }
}

/// A journald MESSAGE_ID for a rule whose author did not give one: 128 bits derived from the rule
/// id, so it is the same on every machine and across restarts, and differs between rules.
enum MessageID {
    static func derived(from ruleID: String) -> String {
        func fnv1a(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in "ntmwatch:\(ruleID)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
            return hash
        }
        return String(format: "%016llx%016llx", fnv1a(0xcbf29ce484222325), fnv1a(0x84222325cbf29ce4))
    }
}

/// A module's settings as plain JSON values, for an executable's request.
func jsonValue(_ value: SettingValue) -> Any {
    switch value {
    case .bool(let b): b
    case .integer(let i): i
    case .number(let d): d
    case .text(let s): s
    case .list(let items): items.map(jsonValue)
    case .table(let table): table.mapValues(jsonValue)
    }
}
