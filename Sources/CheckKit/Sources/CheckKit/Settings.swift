/// A setting's value as written in the configuration file.
public enum SettingValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case text(String)
    case list([SettingValue])
    case table([String: SettingValue])

    public var description: String {
        switch self {
        case .bool(let b): String(b)
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .text(let s): "\"\(s)\""
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .table(let table):
            "{" + table.keys.sorted().map { "\($0): \(table[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

/// The type a setting must have, and the values it accepts.
public indirect enum SettingKind: Sendable {
    case bool
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    /// Any text, or one of `choices` when it is not empty.
    case text(choices: [String])
    /// A civil date, `YYYY-MM-DD`.
    case date
    case list(of: SettingKind)
    /// A free-form table; the module's ``CheckModule/validate(_:)`` checks its shape.
    case table
}

/// One setting a module accepts, with its default.
public struct SettingSpec: Sendable {
    public let key: String
    public let kind: SettingKind
    public let defaultValue: SettingValue
    public let help: String

    public init(_ key: String, _ kind: SettingKind, default defaultValue: SettingValue, help: String) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// Checks `value` against the kind; integers are accepted where numbers are expected.
    public func validate(_ value: SettingValue) throws(SettingsError) -> SettingValue {
        try SettingSpec.check(value, against: kind, key: key)
    }

    private static func check(_ value: SettingValue, against kind: SettingKind, key: String) throws(SettingsError) -> SettingValue {
        func fail(_ expected: String) -> SettingsError {
            SettingsError(key: key, message: "expected \(expected), found \(value)")
        }
        switch (kind, value) {
        case (.bool, .bool):
            return value
        case (.integer(let range), .integer(let i)):
            guard range.contains(i) else { throw fail("an integer from \(range.lowerBound) to \(range.upperBound)") }
            return value
        case (.number(let range), .integer(let i)):
            return try check(.number(Double(i)), against: .number(range), key: key)
        case (.number(let range), .number(let d)):
            guard range.contains(d) else { throw fail("a number from \(range.lowerBound) to \(range.upperBound)") }
            return value
        case (.text(let choices), .text(let s)):
            guard choices.isEmpty || choices.contains(s) else { throw fail("one of \(choices.joined(separator: ", "))") }
            return value
        case (.date, .text(let s)):
            guard CivilDate(s) != nil else { throw fail("a date that exists, as YYYY-MM-DD") }
            return value
        case (.list(let element), .list(let items)):
            var checked: [SettingValue] = []
            for item in items { checked.append(try check(item, against: element, key: key)) }
            return .list(checked)
        case (.table, .table):
            return value
        case (.bool, _): throw fail("true or false")
        case (.integer, _): throw fail("an integer")
        case (.number, _): throw fail("a number")
        case (.text, _): throw fail("text")
        case (.date, _): throw fail("a date as YYYY-MM-DD")
        case (.list, _): throw fail("a list")
        case (.table, _): throw fail("a table")
        }
    }
}

public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "setting '\(key)': \(message)" }
}

/// A module's settings after validation: every declared key is present, with its default when
/// the configuration does not set it.
public struct Settings: Sendable, Hashable {
    public let values: [String: SettingValue]

    /// Validates `provided` against `specs`: unknown keys and wrong types are errors.
    public init(specs: [SettingSpec], provided: [String: SettingValue]) throws(SettingsError) {
        let known = Set(specs.map(\.key))
        if let unknown = provided.keys.sorted().first(where: { !known.contains($0) }) {
            throw SettingsError(key: unknown, message: "unknown setting; known: \(known.sorted().joined(separator: ", "))")
        }
        var values: [String: SettingValue] = [:]
        for spec in specs {
            values[spec.key] = try spec.validate(provided[spec.key] ?? spec.defaultValue)
        }
        self.values = values
    }

    public func value(_ key: String) throws(SettingsError) -> SettingValue {
        guard let value = values[key] else { throw SettingsError(key: key, message: "not declared by the module") }
        return value
    }

    public func bool(_ key: String) throws(SettingsError) -> Bool {
        guard case .bool(let b) = try value(key) else { throw mismatch(key, "bool") }
        return b
    }

    public func integer(_ key: String) throws(SettingsError) -> Int {
        guard case .integer(let i) = try value(key) else { throw mismatch(key, "integer") }
        return i
    }

    public func number(_ key: String) throws(SettingsError) -> Double {
        switch try value(key) {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        default: throw mismatch(key, "number")
        }
    }

    public func text(_ key: String) throws(SettingsError) -> String {
        guard case .text(let s) = try value(key) else { throw mismatch(key, "text") }
        return s
    }

    public func date(_ key: String) throws(SettingsError) -> CivilDate {
        guard case .text(let s) = try value(key), let date = CivilDate(s) else { throw mismatch(key, "date") }
        return date
    }

    public func integers(_ key: String) throws(SettingsError) -> [Int] {
        guard case .list(let items) = try value(key) else { throw mismatch(key, "list of integers") }
        var result: [Int] = []
        for item in items {
            guard case .integer(let i) = item else { throw mismatch(key, "list of integers") }
            result.append(i)
        }
        return result
    }

    public func table(_ key: String) throws(SettingsError) -> [String: SettingValue] {
        guard case .table(let t) = try value(key) else { throw mismatch(key, "table") }
        return t
    }

    private func mismatch(_ key: String, _ type: String) -> SettingsError {
        SettingsError(key: key, message: "is not declared as \(type)")
    }
}
