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
        let byUnit = Mutex<[String: Hierarchy]>([:])
    }

    /// A unit's hierarchy labels, as a table to start a finding's labels from and as pairs in
    /// name order to fingerprint it without one.
    struct Hierarchy: Sendable {
        let labels: [String: String]
        let sorted: [(name: String, value: String)]

        init(_ labels: [String: String]) {
            self.labels = labels
            sorted = labels.map { ($0.key, $0.value) }.sorted { $0.name < $1.name }
        }

        static let none = Hierarchy([:])
    }

    init(units: [String: AdministrativeUnit], instance: String, day: CivilDate = CivilDate(Date())) {
        self.units = UnitMap(units)
        self.day = day
        self.instance = instance
    }

    init(store: Store, at instant: Date, instance: String, sharing model: ReadModel? = nil) async throws {
        let units = try await store.withReader(asOf: instant, sharing: model) { try await $0.unitsByID() }
        self.init(units: units, instance: instance, day: CivilDate(instant))
    }

    /// The findings labelled, in the order the tracker applies them: by rule, then fingerprint.
    func label(_ findings: [Finding], of check: ConfiguredCheck) -> [LabeledFinding] {
        Array(labelling(findings, of: check))
    }

    /// The findings labelled one at a time as they are read, in ``label(_:of:)``'s order. Only
    /// that order is worked out here, from fingerprints taken over the labels' names and values
    /// in name order; each labelled finding (its label table, some 700 bytes) is made when the
    /// tracker reads it and freed when the tracker moves on, unless it becomes an alert. All of
    /// them at once were a third of a national `debt` run's peak memory (issue 21: 300,000
    /// findings).
    func labelling(_ findings: [Finding], of check: ConfiguredCheck) -> Labelled {
        var hierarchies = self.hierarchies.byUnit.withLock { $0 }
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(16)
        var order: [Labelled.Place] = []
        order.reserveCapacity(findings.count)
        for (index, finding) in findings.enumerated() {
            pairs.removeAll(keepingCapacity: true)
            pairs.append(contentsOf: hierarchy(of: finding, memo: &hierarchies).sorted)
            // The same precedence as the table `labelled` builds: the finding's own labels over
            // the hierarchy's, the labeller's own over both.
            func put(_ name: String, _ value: String) {
                if let at = pairs.firstIndex(where: { $0.name == name }) { pairs[at].value = value } else { pairs.append((name, value)) }
            }
            for (name, value) in finding.labels { put(name, value) }
            for (name, value) in fixedLabels(of: finding, check: check.name) { put(name, value) }
            pairs.sort { $0.name < $1.name }
            order.append(Labelled.Place(ruleID: finding.ruleID, fingerprint: Fingerprint.value(ofSorted: pairs), index: index))
        }
        self.hierarchies.byUnit.withLock { [hierarchies] in $0 = hierarchies }
        order.sort { ($0.ruleID, $0.fingerprint) < ($1.ruleID, $1.fingerprint) }
        return Labelled(labeler: self, check: check, descriptor: check.module.descriptor, findings: findings, hierarchies: hierarchies,
                        order: order)
    }

    /// See ``labelling(_:of:)``.
    struct Labelled: Sequence {
        struct Place {
            let ruleID: String
            /// ``Fingerprint/value(ofSorted:)``; its 16 hex digits sort as the number does.
            let fingerprint: UInt64
            let index: Int
        }

        let labeler: Labeler
        let check: ConfiguredCheck
        /// Taken once: a module makes its descriptor each time it is asked.
        let descriptor: ModuleDescriptor
        let findings: [Finding]
        let hierarchies: [String: Hierarchy]
        let order: [Place]

        var underestimatedCount: Int { order.count }

        func makeIterator() -> AnyIterator<LabeledFinding> {
            var next = order.makeIterator()
            return AnyIterator {
                guard let place = next.next() else { return nil }
                let finding = findings[place.index]
                return labeler.labelled(finding, of: check, descriptor: descriptor,
                                        hierarchy: finding.subject.unitID.flatMap { hierarchies[$0] } ?? .none,
                                        fingerprint: Fingerprint.hex(place.fingerprint))
            }
        }
    }

    private func hierarchy(of finding: Finding, memo: inout [String: Hierarchy]) -> Hierarchy {
        guard let unitID = finding.subject.unitID else { return .none }
        if let known = memo[unitID] { return known }
        let found = Hierarchy(hierarchy(of: unitID))
        memo[unitID] = found
        return found
    }

    private func fixedLabels(of finding: Finding, check: String) -> KeyValuePairs<String, String> {
        ["alertname": finding.ruleID, "rule": finding.ruleID, "check": check, "instance": instance,
         "subject_kind": finding.subject.kind, "subject_id": finding.subject.id]
    }

    private func labelled(_ finding: Finding, of check: ConfiguredCheck, descriptor: ModuleDescriptor, hierarchy: Hierarchy,
                          fingerprint: String) -> LabeledFinding {
        // CheckRunner has refused findings of undeclared rules, so there is always a rule here.
        let rule = descriptor.rule(finding.ruleID)
        var labels = hierarchy.labels
        if !finding.labels.isEmpty { labels.merge(finding.labels) { _, own in own } }
        // Set one by one: a dictionary literal to merge was a table made and freed per finding.
        labels.reserveCapacity(labels.count + 6)
        for (name, value) in fixedLabels(of: finding, check: check.name) { labels[name] = value }
        return LabeledFinding(
            finding: finding, check: check.name, messageID: rule?.messageID ?? MetaRules.moduleFailed.messageID,
            labels: labels, fingerprint: fingerprint, severity: check.severity[finding.ruleID] ?? finding.severity,
            pendingFor: check.pendingFor[finding.ruleID] ?? rule?.pendingFor ?? .zero,
            // A finding may name its own source, closer than the rule's: a duty read from a plan.
            source: finding.values["source"]?.plain ?? rule?.source?.description)
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
