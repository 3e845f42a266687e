import CheckKit
import Foundation
import NTMAlerting
import NTMDelivery
import NTMStore
import Synchronization

/// Gives findings their identifying labels: who raised them, about what, and where the subject
/// sits in the administrative hierarchy (one label per level, e.g. `district`, `province`), so
/// that routes can send each office its own units' alerts.
struct Labeler: Sendable {
    let units: UnitMap
    /// The evaluation day: labels are those of the hierarchy in force then.
    let day: CivilDate
    let instance: String
    /// Each unit's hierarchy labels, found once for all the checks of a step: the six modules'
    /// 70,000 national findings name the same 50,000 units again and again.
    private let hierarchies = HierarchyMemo()

    private final class HierarchyMemo: Sendable {
        let byUnit = Mutex<[String: [String: String]]>([:])
    }

    init(units: [String: AdministrativeUnit], instance: String, day: CivilDate = CivilDate(Date())) {
        self.units = UnitMap(units)
        self.day = day
        self.instance = instance
    }

    init(store: Store, at instant: Date, instance: String, sharing model: ReadModel? = nil) async throws {
        let units = try await store.withReader(asOf: instant, sharing: model) { try await $0.units() }
        self.init(units: Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }),
                  instance: instance, day: CivilDate(instant))
    }

    func label(_ findings: [Finding], of check: ConfiguredCheck) -> [LabeledFinding] {
        let descriptor = check.module.descriptor
        var hierarchies = self.hierarchies.byUnit.withLock { $0 }
        defer { self.hierarchies.byUnit.withLock { [hierarchies] in $0 = hierarchies } }
        return findings.map { finding in
            // CheckRunner has refused findings of undeclared rules, so there is always a rule here.
            let rule = descriptor.rule(finding.ruleID)
            var labels: [String: String]
            if let unitID = finding.subject.unitID {
                if let known = hierarchies[unitID] {
                    labels = known
                } else {
                    labels = hierarchy(of: unitID)
                    hierarchies[unitID] = labels
                }
            } else {
                labels = [:]
            }
            if !finding.labels.isEmpty { labels.merge(finding.labels) { _, own in own } }
            // Set one by one: a dictionary literal to merge was a table made and freed per finding.
            labels.reserveCapacity(labels.count + 6)
            labels["alertname"] = finding.ruleID
            labels["rule"] = finding.ruleID
            labels["check"] = check.name
            labels["instance"] = instance
            labels["subject_kind"] = finding.subject.kind
            labels["subject_id"] = finding.subject.id
            return LabeledFinding(
                finding: finding, check: check.name, messageID: rule?.messageID ?? MetaRules.moduleFailed.messageID,
                labels: labels, severity: check.severity[finding.ruleID] ?? finding.severity,
                pendingFor: check.pendingFor[finding.ruleID] ?? rule?.pendingFor ?? .zero,
                // A finding may name its own source, closer than the rule's: a duty read from a plan.
                source: finding.values["source"]?.plain ?? rule?.source?.description)
        }
        .sorted { ($0.finding.ruleID, $0.fingerprint) < ($1.finding.ruleID, $1.fingerprint) }
    }

    func meta(_ rule: Rule, check: String, values: [String: Value], subjectKind: String = "check") -> LabeledFinding {
        let subject = Subject(kind: subjectKind, id: check, name: check)
        let finding = Finding(rule: rule, subject: subject, values: values)
        let labels = ["alertname": rule.id, "rule": rule.id, "check": check, "instance": instance,
                      "subject_kind": subjectKind, "subject_id": check]
        return LabeledFinding(finding: finding, check: check, messageID: rule.messageID, labels: labels,
                              severity: rule.defaultSeverity, pendingFor: .zero, source: rule.source?.description)
    }

    /// `{commune: …, district: …, province: …}` for a unit, by each ancestor's level, as in force
    /// on the evaluation day. A unit that no longer exists is routed as its heir (a merged commune
    /// as the commune it merged into); one abolished without heir, by its last parent's heir (a
    /// district abolished in 2025 goes to its province, or the province that province merged into).
    func hierarchy(of unitID: String?) -> [String: String] {
        guard let unitID, units[unitID] != nil else { return [:] }
        var start = units.heir(of: unitID, on: day)
        var seen: Set<String> = []
        var dead = unitID
        while start == nil, seen.insert(dead).inserted, let end = units[dead]?.validTo,
              let parentID = units[dead]?.parentID(on: end) {
            start = units.heir(of: parentID, on: day)
            dead = parentID
        }
        guard let start, let unit = units[start] else { return [:] }
        var labels: [String: String] = [:]
        for unit in [unit] + units.ancestors(of: start, on: day) {
            let name = unit.level.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty, labels[name] == nil { labels[name] = unit.id }
        }
        return labels
    }
}
