import Foundation

/// What a module tells the daemon about itself.
public struct ModuleDescriptor: Sendable {
    /// Lower-case ASCII, the prefix of every rule id (`deadline`).
    public let name: String
    /// The module's own semantic version.
    public let version: String
    public let summary: LocalizedText
    public let settings: [SettingSpec]
    public let rules: [Rule]

    public init(name: String, version: String, summary: LocalizedText, settings: [SettingSpec], rules: [Rule]) {
        self.name = name
        self.version = version
        self.summary = summary
        self.settings = settings
        self.rules = rules
    }

    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// The problems with this descriptor, empty when it is sound: the loader refuses a module
    /// whose names, rule ids or message ids are malformed or repeated.
    public func problems() -> [String] {
        var problems: [String] = []
        if !ModuleDescriptor.isIdentifier(name) {
            problems.append("module name '\(name)' must be lower-case letters, digits and '_'")
        }
        if rules.isEmpty { problems.append("declares no rules") }
        var seenRules = Set<String>(), seenMessageIDs = Set<String>()
        for rule in rules {
            let parts = rule.id.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count != 2 || parts[0] != name || !ModuleDescriptor.isIdentifier(parts[1]) {
                problems.append("rule id '\(rule.id)' must be '\(name).<name>' in lower-case letters, digits and '_'")
            }
            if !seenRules.insert(rule.id).inserted { problems.append("rule id '\(rule.id)' is declared twice") }
            let hex = rule.messageID
            if hex.count != 32 || !hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
                problems.append("rule '\(rule.id)': MESSAGE_ID '\(hex)' must be 32 lower-case hex digits")
            } else if !seenMessageIDs.insert(hex).inserted {
                problems.append("rule '\(rule.id)': MESSAGE_ID '\(hex)' is used twice")
            }
        }
        var seenKeys = Set<String>()
        for spec in settings {
            if !seenKeys.insert(spec.key).inserted { problems.append("setting '\(spec.key)' is declared twice") }
            do { _ = try spec.validate(spec.defaultValue) } catch {
                problems.append("the default of \(error)")
            }
        }
        return problems
    }

    /// Lower-case ASCII letters, digits and `_`: module names and the last part of rule ids.
    public static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}

/// What a module is given for one evaluation.
public struct EvaluationContext: Sendable {
    /// The instant being evaluated. Modules never read the clock: the same data and instant give
    /// the same findings, so backfills (`--at`) and tests are exact.
    public let instant: Date
    /// ``instant`` as a Vietnamese civil date.
    public var today: CivilDate { CivilDate(instant) }
    public let settings: Settings
    /// The programme store as it was known at ``instant``, read-only.
    public let store: any StoreReader
    public let logger: CheckLogger

    public init(instant: Date, settings: Settings, store: any StoreReader, logger: CheckLogger) {
        self.instant = instant
        self.settings = settings
        self.store = store
        self.logger = logger
    }
}

/// A check module. Implementations are value types or immutable classes: the daemon may call
/// `evaluate` from any task, but never twice at once for the same configured check.
public protocol CheckModule: Sendable {
    var descriptor: ModuleDescriptor { get }

    /// Checks the relations between settings that their kinds cannot express
    /// (e.g. a warning window longer than the deadline). Called at load and on every reload.
    func validate(_ settings: Settings) throws

    /// Evaluates the store as of `context.instant`. Must not return two findings with the same
    /// rule, subject and labels. Throwing reports the whole run as failed; bad data in one record
    /// is better reported as a finding of the module's `bad_data` rule.
    func evaluate(_ context: EvaluationContext) async throws -> [Finding]
}

extension CheckModule {
    public func validate(_ settings: Settings) throws {}
}
