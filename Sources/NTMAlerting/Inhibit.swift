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

    /// The fingerprint of a firing alert that inhibits `target`, or nil. An alert matching both
    /// the source and the target matchers of a rule does not inhibit other alerts matching both,
    /// as in Alertmanager, so two such alerts never mute each other.
    public func inhibitor(of target: Alert, among firing: [Alert]) -> String? {
        let targetLabels = target.notificationLabels
        for rule in rules where rule.targetMatchers.matches(targetLabels) {
            let targetIsSource = rule.sourceMatchers.matches(targetLabels)
            for source in firing where source.fingerprint != target.fingerprint {
                let labels = source.notificationLabels
                guard rule.sourceMatchers.matches(labels), rule.equal.allSatisfy({ labels[$0] == targetLabels[$0] }) else { continue }
                if targetIsSource && rule.targetMatchers.matches(labels) { continue }
                return source.fingerprint
            }
        }
        return nil
    }
}
