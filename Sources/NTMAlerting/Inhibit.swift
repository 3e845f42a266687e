import Foundation

/// Alertmanager's `inhibit_rules` entry: while an alert matching `sourceMatchers` fires, alerts
/// matching `targetMatchers` with the same values of the `equal` labels are not notified.
public struct InhibitRule: Sendable, Hashable {
    public var sourceMatchers: [LabelMatcher]
    public var targetMatchers: [LabelMatcher]
    public var equal: [String]

    public init(sourceMatchers: [LabelMatcher], targetMatchers: [LabelMatcher], equal: [String]) {
        self.sourceMatchers = sourceMatchers
        self.targetMatchers = targetMatchers
        self.equal = equal
    }

    /// The rules used when the configuration has no `inhibit_rules`, chosen from the modules'
    /// rules and labels (see README, "Inhibition"):
    ///
    /// - An escalated overdue duty (`deadline.overdue_escalated`) already tells the parent unit;
    ///   the plain overdue and due-soon alerts of the same duty (same check and `subject_id`) only
    ///   repeat it to the same offices.
    ///
    /// Two examples of the issue are deliberately not defaults: `satisfaction` never raises
    /// `below_threshold` and `not_conclusive` for the same survey (one excludes the other in the
    /// module), and a dossier's `stage_at_risk` alert carries no label naming its earlier stage,
    /// so no `equal` list could pair it with that stage's overdue alert without also muting the
    /// at-risk alerts of other communes' dossiers.
    public static let defaults: [InhibitRule] = [
        InhibitRule(
            sourceMatchers: [try! LabelMatcher(name: "rule", op: .equal, value: "deadline.overdue_escalated")],
            targetMatchers: [try! LabelMatcher(name: "rule", op: .regex, value: "deadline\\.overdue|deadline\\.due_soon")],
            equal: ["check", "subject_id"]),
    ]
}

/// Decides which alerts are inhibited, given every alert that fires.
public struct Inhibitor: Sendable {
    public let rules: [InhibitRule]

    public init(rules: [InhibitRule]) { self.rules = rules }

    /// The firing alerts that can inhibit, per rule, by their values of the rule's `equal`
    /// labels: a target finds its inhibitor by one lookup. Scanning every firing alert for every
    /// target was quadratic, a fifth of a 200-commune cycle and far more at 40,000 alerts.
    public struct Sources: Sendable {
        struct Source: Sendable { let fingerprint: String; let matchesTarget: Bool }
        let rules: [InhibitRule]
        let byEqualValues: [[[String?]: [Source]]]

        /// The fingerprint of a firing alert that inhibits `target`, or nil: the first by
        /// fingerprint. An alert matching both the source and the target matchers of a rule does
        /// not inhibit other alerts matching both, as in Alertmanager, so two such alerts never
        /// mute each other.
        public func inhibitor(of target: some LabelledAlert) -> String? {
            let label = target.notificationLabel
            for (rule, sources) in zip(rules, byEqualValues) where rule.targetMatchers.matches(label) {
                let targetIsSource = rule.sourceMatchers.matches(label)
                for source in sources[rule.equal.map(label)] ?? [] where source.fingerprint != target.fingerprint {
                    if targetIsSource && source.matchesTarget { continue }
                    return source.fingerprint
                }
            }
            return nil
        }
    }

    /// Indexes the firing alerts (in any order) that can inhibit. Labels are looked up one at a
    /// time: a dictionary per alert was most of the cost with 70,000 firing alerts.
    public func sources<A: LabelledAlert>(among firing: some Sequence<A>) -> Sources {
        var byEqualValues = Array(repeating: [[String?]: [Sources.Source]](), count: rules.count)
        guard !rules.isEmpty else { return Sources(rules: rules, byEqualValues: byEqualValues) }
        for alert in firing {
            let label = alert.notificationLabel
            for (index, rule) in rules.enumerated() where rule.sourceMatchers.matches(label) {
                byEqualValues[index][rule.equal.map(label), default: []].append(
                    .init(fingerprint: alert.fingerprint, matchesTarget: rule.targetMatchers.matches(label)))
            }
        }
        for index in byEqualValues.indices {
            for key in byEqualValues[index].keys { byEqualValues[index][key]!.sort { $0.fingerprint < $1.fingerprint } }
        }
        return Sources(rules: rules, byEqualValues: byEqualValues)
    }
}

/// An alert as label matchers see it: a tracked alert or a whole one.
public protocol LabelledAlert {
    var fingerprint: String { get }
    /// One label as receivers see it (the identifying ones plus `severity`).
    func notificationLabel(_ name: String) -> String?
}

extension Alert: LabelledAlert {}
extension TrackedAlert: LabelledAlert {}
