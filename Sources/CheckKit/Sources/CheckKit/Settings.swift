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

/// One setting a module accepts, with its default. Modules declare a ``Setting`` instead, which
/// makes this and reads the value typed.
public struct SettingSpec: Sendable {
    public let key: String
    public let kind: SettingKind
    public let defaultValue: SettingValue
    public let help: String
    /// What the kind cannot say (a table's shape, a day written `MM-DD`), run after the kind's check.
    public let check: (@Sendable (SettingValue) throws(SettingsError) -> Void)?

    public init(_ key: String, _ kind: SettingKind, default defaultValue: SettingValue, help: String,
                check: (@Sendable (SettingValue) throws(SettingsError) -> Void)? = nil) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.check = check
    }

    /// Checks `value` against the kind, then ``check``; integers are accepted where numbers are expected.
    public func validate(_ value: SettingValue) throws(SettingsError) -> SettingValue {
        let checked = try SettingSpec.check(value, against: kind, key: key)
        try check?(checked)
        return checked
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

    /// The value of a declared setting, typed.
    public subscript<T>(_ setting: Setting<T>) -> T {
        get throws(SettingsError) { try T(setting: value(setting.key), key: setting.key) }
    }

    private func mismatch(_ key: String, _ type: String) -> SettingsError {
        SettingsError(key: key, message: "is not declared as \(type)")
    }
}

/// A Swift type a setting's value reads as. Errors name the key (or a part of it, `milestones.06-30`).
public protocol SettingReadable: Sendable {
    init(setting value: SettingValue, key: String) throws(SettingsError)
}

/// A setting type whose default can be written as the Swift value (`default: 90`).
public protocol SettingWritable: SettingReadable {
    var settingValue: SettingValue { get }
}

/// A setting, declared once: key, kind (type and range), default, help, and the type it reads as.
/// The module lists its declarations in ``ModuleDescriptor/settings`` and reads each value with
/// `settings[declaration]`; the daemon validates the configured value at load (kind, then the
/// type's own reading), so a value the type refuses never reaches `evaluate`.
///
/// ```swift
/// static let graceDays = Setting<Int>("grace_days", .integer(0...366), default: 7, help: "...")
/// let grace = try context.settings[Self.graceDays]
/// ```
public struct Setting<T: SettingReadable>: Sendable {
    public let spec: SettingSpec
    public var key: String { spec.key }

    /// A default written as configuration would write it: for types that keep no such form (a parsed table).
    public init(_ key: String, _ kind: SettingKind, written defaultValue: SettingValue, help: String) {
        spec = SettingSpec(key, kind, default: defaultValue, help: help) { value throws(SettingsError) in
            _ = try T(setting: value, key: key)
        }
    }
}

extension Setting where T: SettingWritable {
    public init(_ key: String, _ kind: SettingKind, default defaultValue: T, help: String) {
        self.init(key, kind, written: defaultValue.settingValue, help: help)
    }
}

extension SettingsError {
    static func expected(_ what: String, _ key: String, _ value: SettingValue) -> SettingsError {
        SettingsError(key: key, message: "expected \(what), found \(value)")
    }
}

extension Bool: SettingWritable {
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .bool(let b) = value else { throw .expected("true or false", key, value) }
        self = b
    }
    public var settingValue: SettingValue { .bool(self) }
}

extension Int: SettingWritable {
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .integer(let i) = value else { throw .expected("an integer", key, value) }
        self = i
    }
    public var settingValue: SettingValue { .integer(self) }
}

extension Double: SettingWritable {
    /// Integers are numbers too (`90` for `90.0`).
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        switch value {
        case .number(let d): self = d
        case .integer(let i): self = Double(i)
        default: throw .expected("a number", key, value)
        }
    }
    public var settingValue: SettingValue { .number(self) }
}

extension String: SettingWritable {
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .text(let s) = value else { throw .expected("text", key, value) }
        self = s
    }
    public var settingValue: SettingValue { .text(self) }
}

extension CivilDate: SettingWritable {
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .text(let s) = value, let date = CivilDate(s) else { throw .expected("a date that exists, as YYYY-MM-DD", key, value) }
        self = date
    }
    public var settingValue: SettingValue { .text(description) }
}

extension Array: SettingReadable where Element: SettingReadable {
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .list(let items) = value else { throw .expected("a list", key, value) }
        var result: [Element] = []
        for item in items { result.append(try Element(setting: item, key: key)) }
        self = result
    }
}

extension Array: SettingWritable where Element: SettingWritable {
    public var settingValue: SettingValue { .list(map(\.settingValue)) }
}

extension Dictionary: SettingReadable where Key == String, Value: SettingReadable {
    /// A table whose every value reads as `Value`; errors name the entry (`margins.17.11`).
    public init(setting value: SettingValue, key: String) throws(SettingsError) {
        guard case .table(let table) = value else { throw .expected("a table", key, value) }
        var result: [String: Value] = [:]
        for (name, item) in table { result[name] = try Value(setting: item, key: "\(key).\(name)") }
        self = result
    }
}

extension Dictionary: SettingWritable where Key == String, Value: SettingWritable {
    public var settingValue: SettingValue { .table(mapValues(\.settingValue)) }
}

extension SettingValue: SettingWritable {
    /// The value as written: for a table whose shape the module checks itself.
    public init(setting value: SettingValue, key: String) throws(SettingsError) { self = value }
    public var settingValue: SettingValue { self }
}
