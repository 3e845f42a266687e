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
    func label(_ findings: [Finding], of check: ConfiguredCheck) async -> [LabeledFinding] {
        await labelling(findings, of: check).map { $0.labeled() }
    }

    /// The findings in ``label(_:of:)``'s order as the tracker reads them: each one's fingerprint
    /// (taken over its labels' names and values in name order), severity and content hash, worked
    /// out without its label table. The table (some 700 bytes) is made only for a finding whose
    /// alert is new, changed or due (``TrackableFinding/labeled()``): made for every finding, the
    /// tables were a third of a national `debt` run's peak memory, and in a steady cycle, where
    /// nearly every alert is found again unchanged, a third of its processing (issue 21: 300,000
    /// findings). A large run is worked out in slices of at least `slice` findings, one per core
    /// (`cores`): the tracker that reads it is one thread. Both are parameters for tests.
    func labelling(_ findings: [Finding], of check: ConfiguredCheck, slice: Int = 10_000,
                   cores: Int = ProcessInfo.processInfo.activeProcessorCount) async -> Labelled {
        let rules = Labelled.Rules(findings, check: check)
        let memo = hierarchies.byUnit.withLock { $0 }
        let parts = max(1, min(cores, findings.count / max(slice, 1)))
        var order: [Labelled.Place] = []
        var known = memo
        if parts == 1 {
            var added: [String: Hierarchy] = [:]
            order = places(findings, findings.indices, check: check, rules: rules, known: memo, added: &added)
            known.merge(added) { kept, _ in kept }
        } else {
            let count = findings.count
            // The order the slices come back in does not matter: the sort below ends with the index.
            let done = await withTaskGroup(of: ([Labelled.Place], [String: Hierarchy]).self) { group in
                for part in 0..<parts {
                    group.addTask {
                        var added: [String: Hierarchy] = [:]
                        let range = part * count / parts..<(part + 1) * count / parts
                        return (places(findings, range, check: check, rules: rules, known: memo, added: &added), added)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            order.reserveCapacity(count)
            for (places, added) in done {
                order.append(contentsOf: places)
                known.merge(added) { kept, _ in kept }
            }
        }
        hierarchies.byUnit.withLock { [known] in $0 = known }
        // The index last: of two findings with one fingerprint the tracker keeps the first.
        order.sort { ($0.rule, $0.fingerprint, $0.index) < ($1.rule, $1.fingerprint, $1.index) }
        return Labelled(context: Labelled.Context(labeler: self, check: check, findings: findings, hierarchies: known, rules: rules),
                        order: order)
    }

    /// The places of `findings[range]`; the hierarchies it works out that `known` lacks go to `added`.
    private func places(_ findings: [Finding], _ range: Range<Int>, check: ConfiguredCheck, rules: Labelled.Rules,
                        known: [String: Hierarchy], added: inout [String: Hierarchy]) -> [Labelled.Place] {
        var pairs: [(name: String, value: String)] = []
        pairs.reserveCapacity(16)
        var places: [Labelled.Place] = []
        places.reserveCapacity(range.count)
        for index in range {
            let finding = findings[index]
            pairs.removeAll(keepingCapacity: true)
            pairs.append(contentsOf: hierarchy(of: finding, known: known, added: &added).sorted)
            // The same precedence as the table `labelled` builds: the finding's own labels over
            // the hierarchy's, the labeller's own over both.
            func put(_ name: String, _ value: String) {
                if let at = pairs.firstIndex(where: { $0.name == name }) { pairs[at].value = value } else { pairs.append((name, value)) }
            }
            for (name, value) in finding.labels { put(name, value) }
            for (name, value) in fixedLabels(of: finding, check: check.name) { put(name, value) }
            pairs.sort { $0.name < $1.name }
            let rule = rules.position[index]
            places.append(Labelled.Place(
                fingerprint: Fingerprint.value(ofSorted: pairs),
                content: LabeledFinding.contentHash(of: finding, source: Self.source(of: finding, rule: rules.facts[Int(rule)])),
                rule: rule, index: Int32(index)))
        }
        return places
    }

    /// A finding may name its own source, closer than the rule's: a duty read from a plan.
    private static func source(of finding: Finding, rule: Labelled.RuleFacts) -> String? {
        finding.values["source"]?.plain ?? rule.source
    }

    /// See ``labelling(_:of:slice:cores:)``.
    struct Labelled: Sequence {
        /// 24 bytes per finding (the two narrow fields last, so they share a word).
        struct Place {
            /// ``Fingerprint/value(ofSorted:)``; its 16 hex digits sort as the number does.
            let fingerprint: UInt64
            let content: Int
            /// The position of the finding's rule in ``Rules/facts``, which are in id order.
            let rule: Int32
            let index: Int32
        }

        /// What a finding takes from its rule and check, found once per rule rather than per finding.
        struct RuleFacts: Sendable {
            let id: String
            let messageID: String
            let severity: Severity?
            let pendingFor: Duration
            let source: String?
        }

        /// The rules of a run's findings, in id order, and each finding's among them.
        struct Rules: Sendable {
            let facts: [RuleFacts]
            let position: [Int32]

            init(_ findings: [Finding], check: ConfiguredCheck) {
                // Taken once: a module makes its descriptor each time it is asked.
                let descriptor = check.module.descriptor
                var seen: [String: Int32] = [:]
                var ids: [String] = []
                var position: [Int32] = []
                position.reserveCapacity(findings.count)
                var last: (id: String, at: Int32)?
                for finding in findings {
                    // A rule's findings mostly come together, each with the rule's own id string.
                    if let last, last.id == finding.ruleID { position.append(last.at); continue }
                    let at = seen[finding.ruleID] ?? {
                        ids.append(finding.ruleID)
                        seen[finding.ruleID] = Int32(ids.count - 1)
                        return Int32(ids.count - 1)
                    }()
                    position.append(at)
                    last = (finding.ruleID, at)
                }
                let sorted = ids.indices.sorted { ids[$0] < ids[$1] }
                var rank = [Int32](repeating: 0, count: ids.count)
                for (place, index) in sorted.enumerated() { rank[index] = Int32(place) }
                self.position = position.map { rank[Int($0)] }
                facts = sorted.map { index in
                    let id = ids[index]
                    // CheckRunner has refused findings of undeclared rules, so there is always a rule here.
                    let rule = descriptor.rule(id)
                    return RuleFacts(id: id, messageID: rule?.messageID ?? MetaRules.moduleFailed.messageID, severity: check.severity[id],
                                     pendingFor: check.pendingFor[id] ?? rule?.pendingFor ?? .zero, source: rule?.source?.description)
                }
            }
        }

        /// What every finding of the run shares.
        final class Context: Sendable {
            let labeler: Labeler
            let check: ConfiguredCheck
            let findings: [Finding]
            let hierarchies: [String: Hierarchy]
            let rules: Rules

            init(labeler: Labeler, check: ConfiguredCheck, findings: [Finding], hierarchies: [String: Hierarchy], rules: Rules) {
                self.labeler = labeler
                self.check = check
                self.findings = findings
                self.hierarchies = hierarchies
                self.rules = rules
            }
        }

        /// One finding, as the tracker reads it.
        struct Found: TrackableFinding {
            let context: Context
            let place: Place

            var key: AlertKey { .hash(place.fingerprint) }
            var severity: Severity { context.rules.facts[Int(place.rule)].severity ?? context.findings[Int(place.index)].severity }
            var pendingFor: Duration { context.rules.facts[Int(place.rule)].pendingFor }
            var contentHash: Int { place.content }

            func labeled() -> LabeledFinding {
                let finding = context.findings[Int(place.index)]
                return context.labeler.labelled(
                    finding, of: context.check, rule: context.rules.facts[Int(place.rule)],
                    hierarchy: finding.subject.unitID.flatMap { context.hierarchies[$0] } ?? .none,
                    fingerprint: Fingerprint.hex(place.fingerprint))
            }
        }

        let context: Context
        let order: [Place]

        var underestimatedCount: Int { order.count }

        func makeIterator() -> LazyMapSequence<[Place], Found>.Iterator {
            let context = self.context
            return order.lazy.map { Found(context: context, place: $0) }.makeIterator()
        }
    }

    private func hierarchy(of finding: Finding, known: [String: Hierarchy], added: inout [String: Hierarchy]) -> Hierarchy {
        guard let unitID = finding.subject.unitID else { return .none }
        if let found = known[unitID] ?? added[unitID] { return found }
        let found = Hierarchy(hierarchy(of: unitID))
        added[unitID] = found
        return found
    }

    private func fixedLabels(of finding: Finding, check: String) -> KeyValuePairs<String, String> {
        ["alertname": finding.ruleID, "rule": finding.ruleID, "check": check, "instance": instance,
         "subject_kind": finding.subject.kind, "subject_id": finding.subject.id]
    }

    private func labelled(_ finding: Finding, of check: ConfiguredCheck, rule: Labelled.RuleFacts, hierarchy: Hierarchy,
                          fingerprint: String) -> LabeledFinding {
        var labels = hierarchy.labels
        if !finding.labels.isEmpty { labels.merge(finding.labels) { _, own in own } }
        // Set one by one: a dictionary literal to merge was a table made and freed per finding.
        labels.reserveCapacity(labels.count + 6)
        for (name, value) in fixedLabels(of: finding, check: check.name) { labels[name] = value }
        return LabeledFinding(finding: finding, check: check.name, messageID: rule.messageID, labels: labels, fingerprint: fingerprint,
                              severity: rule.severity ?? finding.severity, pendingFor: rule.pendingFor,
                              source: Self.source(of: finding, rule: rule))
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
            let name = Self.labelName(ofLevel: unit.level)
            if !name.isEmpty, labels[name] == nil { labels[name] = unit.id }
        }
        return labels
    }

    /// A level as a label name: lower-case letters, digits and `_`. A store's levels are such
    /// words already (`commune`, `province`), and are recognised byte by byte: lower-casing and
    /// asking Unicode's tables of every character, for every ancestor of each of a national
    /// run's 50,000 units, was a third of working out their hierarchies (issue 21).
    static func labelName(ofLevel level: String) -> String {
        if level.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                                    || $0 == UInt8(ascii: "_") }) {
            return level
        }
        return level.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
    }
}
