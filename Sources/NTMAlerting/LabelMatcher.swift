import Foundation
import Synchronization

/// One label condition, as Alertmanager's matchers: `name=value`, `name!=value`, `name=~regex`,
/// `name!~regex`. A regex is anchored at both ends and compiled once, when the matcher is made,
/// so a bad pattern is an error at load time and matching never recompiles it.
public struct LabelMatcher: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equal = "=", notEqual = "!=", regex = "=~", notRegex = "!~"
    }

    public let name: String
    public let op: Operator
    public let value: String
    private let pattern: CompiledPattern?

    public struct InvalidMatcher: Error, Sendable, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)': \(reason)" }
    }

    public init(name: String, op: Operator, value: String) throws(InvalidMatcher) {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
              !(name.first?.isNumber ?? true) else {
            throw InvalidMatcher(text: name, reason: "a label name is letters, digits and _, not starting with a digit")
        }
        self.name = name
        self.op = op
        self.value = value
        if op == .regex || op == .notRegex {
            do {
                pattern = CompiledPattern(try Regex("^(?:\(value))$"))
            } catch {
                throw InvalidMatcher(text: "\(name)\(op.rawValue)\(value)", reason: "not a valid regular expression")
            }
        } else {
            pattern = nil
        }
    }

    /// Parses `name=value`, `name!="value"`, `name=~"re"`, `name!~re` (quotes optional).
    public init(parsing text: String) throws(InvalidMatcher) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // The leftmost operator wins; at one position the two-character one (`!=`, `=~`, `!~`), so
        // `a!=b` is not read as `=` with a name ending in `!`.
        var found: (range: Range<String.Index>, op: Operator)?
        for op in [Operator.notEqual, .regex, .notRegex, .equal] {
            guard let range = trimmed.range(of: op.rawValue) else { continue }
            if let best = found, best.range.lowerBound <= range.lowerBound { continue }
            found = (range, op)
        }
        guard let (range, op) = found else {
            throw InvalidMatcher(text: text, reason: "expected name=value, name!=value, name=~regex or name!~regex")
        }
        let name = String(trimmed[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
        var value = String(trimmed[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        try self.init(name: name, op: op, value: value)
    }

    /// A missing label matches as the empty string, as in Alertmanager.
    public func matches(_ labels: [String: String]) -> Bool { matches { labels[$0] } }

    /// Matches labels looked up one at a time (an alert's, without building their dictionary).
    public func matches(_ label: (String) -> String?) -> Bool {
        let actual = label(name) ?? ""
        switch op {
        case .equal: return actual == value
        case .notEqual: return actual != value
        case .regex: return pattern!.matches(actual)
        case .notRegex: return !pattern!.matches(actual)
        }
    }

    public var description: String { "\(name)\(op.rawValue)\"\(value)\"" }

    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool { a.name == b.name && a.op == b.op && a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(name); hasher.combine(op); hasher.combine(value) }
}

extension Array where Element == LabelMatcher {
    public func matches(_ labels: [String: String]) -> Bool { allSatisfy { $0.matches(labels) } }
    public func matches(_ label: (String) -> String?) -> Bool { allSatisfy { $0.matches(label) } }
}

/// A compiled regex shared between tasks (`Regex` holds no mutable state once built), with the
/// answers it gave. A matcher sees the same few values again and again (an inhibit rule's
/// `rule=~…` is asked for every open alert after every run: 70,000 times nationally), and a
/// Swift `Regex` match costs microseconds. At most `remembered` answers are kept, so a pattern
/// over unbounded values (subject ids) stops remembering instead of growing.
private final class CompiledPattern: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    private let answers = Mutex<[String: Bool]>([:])
    static let remembered = 4096

    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }

    func matches(_ text: String) -> Bool {
        if let known = answers.withLock({ $0[text] }) { return known }
        let answer = (try? regex.wholeMatch(in: text)) != nil
        answers.withLock { if $0.count < Self.remembered { $0[text] = answer } }
        return answer
    }
}
