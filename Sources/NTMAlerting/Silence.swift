import Foundation

/// A silence, as Alertmanager's: alerts whose labels match every matcher between `startsAt` and
/// `endsAt` are tracked and kept in the history but not notified.
public struct Silence: Sendable, Hashable {
    public var id: String
    public var matchers: [LabelMatcher]
    public var startsAt: Date
    public var endsAt: Date
    public var createdBy: String
    public var comment: String
    public var updatedAt: Date

    public enum State: String, Sendable { case pending, active, expired }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public init(id: String = UUID().uuidString.lowercased(), matchers: [LabelMatcher], startsAt: Date, endsAt: Date,
                createdBy: String, comment: String, updatedAt: Date = Date()) throws(Invalid) {
        guard !matchers.isEmpty else { throw Invalid(reason: "a silence needs at least one matcher") }
        // Alertmanager refuses a silence every alert would match (e.g. only `name=~".*"`): it would mute everything.
        guard matchers.contains(where: { !$0.matches([:]) }) else {
            throw Invalid(reason: "these matchers also match an alert without labels, so the silence would mute every alert")
        }
        guard endsAt > startsAt else { throw Invalid(reason: "the silence ends before it starts") }
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
        self.updatedAt = updatedAt
    }

    public func state(at instant: Date) -> State {
        instant < startsAt ? .pending : instant < endsAt ? .active : .expired
    }

    public func mutes(_ labels: [String: String], at instant: Date) -> Bool {
        mutes({ labels[$0] }, at: instant)
    }

    /// Whether the silence mutes the alert whose labels `label` gives by name, at `instant`.
    public func mutes(_ label: (String) -> String?, at instant: Date) -> Bool {
        state(at: instant) == .active && matchers.matches(label)
    }
}

/// Alertmanager's API v2 silence (`amtool silence query -o json`, `GET /api/v2/silences`), so
/// silences move between ntmwatch and Alertmanager.
public struct AlertmanagerSilence: Codable, Sendable, Hashable {
    public struct Matcher: Codable, Sendable, Hashable {
        public var name: String
        public var value: String
        public var isRegex: Bool
        /// Absent in files of Alertmanager before 0.22, where it meant `true`.
        public var isEqual: Bool?
    }
    public struct Status: Codable, Sendable, Hashable { public var state: String }

    public var id: String?
    public var matchers: [Matcher]
    public var startsAt: String
    public var endsAt: String
    public var updatedAt: String?
    public var createdBy: String
    public var comment: String
    public var status: Status?

    public init(_ silence: Silence, at instant: Date) {
        id = silence.id
        matchers = silence.matchers.map {
            Matcher(name: $0.name, value: $0.value, isRegex: $0.op == .regex || $0.op == .notRegex,
                    isEqual: $0.op == .equal || $0.op == .regex)
        }
        startsAt = Self.format(silence.startsAt)
        endsAt = Self.format(silence.endsAt)
        updatedAt = Self.format(silence.updatedAt)
        createdBy = silence.createdBy
        comment = silence.comment
        status = Status(state: silence.state(at: instant).rawValue)
    }

    /// The silence this describes; `position` names it in errors (e.g. `silences.json: [3]`).
    public func silence(position: String) throws(Silence.Invalid) -> Silence {
        var converted: [LabelMatcher] = []
        for (index, matcher) in matchers.enumerated() {
            let op: LabelMatcher.Operator = switch (matcher.isRegex, matcher.isEqual ?? true) {
            case (false, true): .equal
            case (false, false): .notEqual
            case (true, true): .regex
            case (true, false): .notRegex
            }
            do {
                converted.append(try LabelMatcher(name: matcher.name, op: op, value: matcher.value))
            } catch {
                throw Silence.Invalid(reason: "\(position).matchers[\(index)]: \(error)")
            }
        }
        guard let starts = Self.parse(startsAt) else { throw Silence.Invalid(reason: "\(position).startsAt: '\(startsAt)' is not an RFC 3339 instant") }
        guard let ends = Self.parse(endsAt) else { throw Silence.Invalid(reason: "\(position).endsAt: '\(endsAt)' is not an RFC 3339 instant") }
        do {
            return try Silence(id: id ?? UUID().uuidString.lowercased(), matchers: converted, startsAt: starts, endsAt: ends,
                               createdBy: createdBy, comment: comment, updatedAt: updatedAt.flatMap(Self.parse) ?? Date())
        } catch {
            throw Silence.Invalid(reason: "\(position): \(error.reason)")
        }
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Alertmanager writes nanoseconds (`2025-01-31T16:59:59.999999999Z`); Foundation reads at
    /// most milliseconds, so the extra digits are cut before parsing.
    static func parse(_ text: String) -> Date? {
        var trimmed = text
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            let digits = text[text.index(after: dot)..<end]
            trimmed = String(text[..<dot]) + (digits.isEmpty ? "" : "." + digits.prefix(3)) + String(text[end...])
        }
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(trimmed, strategy: .iso8601)
    }
}
