import CheckKit
import Foundation
import Yams

/// Reads one YAML mapping key by key, remembering which keys were read so that a key nobody
/// reads (a typo) is an error rather than a silently ignored setting.
final class YAMLSection {
    let file: String
    let path: String
    let node: Node
    private let mapping: Node.Mapping
    private var used = Set<String>()

    init(_ node: Node, path: String, file: String) throws(ConfigError) {
        self.file = file
        self.path = path
        self.node = node
        guard let mapping = node.mapping else {
            throw YAMLSection.error(file, node, path, vi: "cần một bảng khóa: giá trị", en: "expected a mapping of keys to values")
        }
        self.mapping = mapping
    }

    static func error(_ file: String, _ node: Node?, _ key: String?, vi: String, en: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, column: node?.mark?.column, key: key,
                    message: LocalizedText(vi: vi, en: en))
    }

    func error(_ node: Node?, _ key: String, vi: String, en: String) -> ConfigError {
        YAMLSection.error(file, node ?? self.node, qualified(key), vi: vi, en: en)
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var line: Int { node.mark?.line ?? 0 }

    subscript(key: String) -> Node? {
        used.insert(key)
        return mapping[Node(key)]
    }

    var keys: [String] { mapping.keys.compactMap(\.string) }

    func section(_ key: String) throws(ConfigError) -> YAMLSection? {
        guard let node = self[key] else { return nil }
        return try YAMLSection(node, path: qualified(key), file: file)
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let node = self[key] else { return nil }
        guard let scalar = node.scalar else { throw error(node, key, vi: "cần một giá trị văn bản", en: "expected a text value") }
        return scalar.string
    }

    func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let value = try string(key), !value.isEmpty else {
            throw error(nil, key, vi: "thiếu khóa bắt buộc", en: "required key is missing")
        }
        return value
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let node = self[key] else { return nil }
        guard let value = node.int, range.contains(value) else {
            throw error(node, key, vi: "cần số nguyên từ \(range.lowerBound) đến \(range.upperBound)",
                        en: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let node = self[key] else { return nil }
        guard let value = node.bool else { throw error(node, key, vi: "cần true hoặc false", en: "expected true or false") }
        return value
    }

    /// A positive duration; `allowZero` for waits that may be switched off (`group_wait: 0s`).
    func duration(_ key: String, allowZero: Bool = false) throws(ConfigError) -> Duration? {
        guard let node = self[key] else { return nil }
        guard let text = node.scalar?.string, let value = DurationText.parse(text), value > .zero || (allowZero && value == .zero) else {
            throw error(node, key, vi: "cần khoảng thời gian như 30s, 5m, 1h, 7d", en: "expected a duration such as 30s, 5m, 1h, 7d")
        }
        return value
    }

    func bytes(_ key: String) throws(ConfigError) -> Int64? {
        guard let node = self[key] else { return nil }
        guard let text = node.scalar?.string, let value = ByteCount.parse(text), value > 0 else {
            throw error(node, key, vi: "cần dung lượng như 500KB, 100MB, 1GB", en: "expected a size such as 500KB, 100MB, 1GB")
        }
        return value
    }

    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let node = self[key] else { return nil }
        guard let sequence = node.sequence else { throw error(node, key, vi: "cần một danh sách", en: "expected a list") }
        var result: [String] = []
        for item in sequence {
            guard let text = item.scalar?.string else { throw error(item, key, vi: "cần văn bản", en: "expected text") }
            result.append(text)
        }
        return result
    }

    func stringMap(_ key: String) throws(ConfigError) -> [String: String]? {
        guard let node = self[key] else { return nil }
        guard let mapping = node.mapping else { throw error(node, key, vi: "cần một bảng", en: "expected a mapping") }
        var result: [String: String] = [:]
        for (name, value) in mapping {
            guard let name = name.string, let text = value.scalar?.string else {
                throw error(value, key, vi: "cần cặp khóa: văn bản", en: "expected key: text pairs")
            }
            result[name] = text
        }
        return result
    }

    func sequence(_ key: String) throws(ConfigError) -> [Node]? {
        guard let node = self[key] else { return nil }
        guard let sequence = node.sequence else { throw error(node, key, vi: "cần một danh sách", en: "expected a list") }
        return Array(sequence)
    }

    /// Fails on the first key that was never read.
    func rejectUnknownKeys() throws(ConfigError) {
        for (key, _) in mapping {
            guard let name = key.string, !used.contains(name) else { continue }
            throw YAMLSection.error(file, key, qualified(name), vi: "khóa không được hỗ trợ", en: "unknown key")
        }
    }

    /// A module's settings as SDK values: YAML's own types, not the daemon's.
    static func settingValue(_ node: Node) -> SettingValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if let b = node.bool { return .bool(b) }
                if let i = node.int { return .integer(i) }
                if let d = node.float { return .number(d) }
            }
            return .text(scalar.string)
        case .sequence(let sequence):
            return .list(sequence.map(settingValue))
        case .mapping(let mapping):
            var table: [String: SettingValue] = [:]
            for (key, value) in mapping { table[key.string ?? ""] = settingValue(value) }
            return .table(table)
        case .alias:
            return .text("")
        }
    }
}

/// `30s`, `5m`, `1h`, `7d`, `250ms`.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number >= 0 else { return nil }
            return .milliseconds(Int64((number * seconds * 1000).rounded()))
        }
        return nil
    }

    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms % unit == 0 && ms >= unit {
            return "\(ms / unit)\(suffix)"
        }
        return "\(ms)ms"
    }
}

enum ByteCount {
    static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        for (suffix, factor) in [("GB", Int64(1) << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)] where trimmed.hasSuffix(suffix) {
            return Int64(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)).map { $0 * factor }
        }
        return Int64(trimmed)
    }
}
