import CheckKit
import Foundation
import NTMAlerting
import NTMAlertingTestSupport
@testable import NTMModuleHost
import Testing
@testable import NTMWatchCore

/// Routing labels come from the hierarchy in force at the evaluation instant: an alert about a unit
/// that no longer exists never carries the labels of offices that no longer exist.
@Suite struct LabelerTests {
    static let reform = CivilDate("2025-07-01")!

    /// The store as read on `day`: each unit's parent is the one in force then.
    static func labeler(on day: CivilDate) -> Labeler {
        var units: [String: AdministrativeUnit] = [:]
        for var unit in [
            AdministrativeUnit(id: "48", name: "Đà Nẵng", level: "province"),
            AdministrativeUnit(id: "49", name: "Quảng Nam", level: "province", validTo: CivilDate("2025-06-30"), successorID: "48"),
            AdministrativeUnit(id: "502", name: "Đại Lộc", level: "district", parentID: "49", validTo: CivilDate("2025-06-30")),
            AdministrativeUnit(id: "20107", name: "Đại Chánh", level: "commune", validTo: CivilDate("2025-06-30"), successorID: "20108",
                               parents: [ParentLink(parentID: "502")]),
            AdministrativeUnit(id: "20108", name: "Đại Tân", level: "commune", parents: [
                ParentLink(parentID: "502", validTo: CivilDate("2025-06-30")), ParentLink(parentID: "48", validFrom: reform)]),
        ] {
            // What the store reader does: hide an end that is still ahead, give the parent in force.
            if let end = unit.validTo, end >= day { unit.validTo = nil; unit.successorID = nil; unit.successions = [] }
            unit.parentID = unit.parentID(on: day)
            units[unit.id] = unit
        }
        return Labeler(units: units, instance: "test", day: day)
    }

    @Test func beforeTheReformACommuneIsRoutedToItsDistrictAndProvince() {
        let labeler = Self.labeler(on: CivilDate("2025-06-30")!)
        #expect(labeler.hierarchy(of: "20107") == ["commune": "20107", "district": "502", "province": "49"])
        #expect(labeler.hierarchy(of: "502") == ["district": "502", "province": "49"])
    }

    /// Plain ASCII levels are taken as they are; others go through the same lower-casing and
    /// filtering as before (issue 21 only added the short way).
    @Test func aLevelBecomesItsLabelName() {
        for level in ["commune", "district", "province", "level_2", "x9", ""] { #expect(Labeler.labelName(ofLevel: level) == level) }
        #expect(Labeler.labelName(ofLevel: "Commune") == "commune")
        #expect(Labeler.labelName(ofLevel: "Thôn / Bản") == "thônbản")
        #expect(Labeler.labelName(ofLevel: "ĐẶC KHU-2") == "đặckhu2")
        #expect(Labeler.labelName(ofLevel: "-") == "")
    }

    @Test func afterTheReformTheLabelsAreThoseInForce() {
        let labeler = Self.labeler(on: Self.reform)
        // A commune now directly under the merged province: no district label.
        #expect(labeler.hierarchy(of: "20108") == ["commune": "20108", "province": "48"])
        // A merged commune is routed as the commune it merged into.
        #expect(labeler.hierarchy(of: "20107") == ["commune": "20108", "province": "48"])
        // An abolished district goes to its province's heir; the merged province to Đà Nẵng.
        #expect(labeler.hierarchy(of: "502") == ["province": "48"])
        #expect(labeler.hierarchy(of: "49") == ["province": "48"])
        #expect(labeler.hierarchy(of: "unknown").isEmpty && labeler.hierarchy(of: nil).isEmpty)
    }

    /// The labelled findings are made one by one from an order worked out without their label
    /// tables (fingerprints over name-ordered pairs): they must be the findings the tables give,
    /// in rule and fingerprint order, with the same precedence (the finding's own labels over the
    /// hierarchy's, the labeller's over both).
    ///
    /// What the tracker reads of each one before it asks for it whole (key, severity, `for`,
    /// content hash) is what the labelled finding says, and a run worked out in slices on several
    /// cores comes in the same order as in one.
    @Test func findingsAreLabelledInRuleAndFingerprintOrderWithTheTablesFingerprints() async throws {
        let labeler = Self.labeler(on: Self.reform)
        let check = ConfiguredCheck(name: "demo", module: LoadedModule(module: TwoRules(), path: "(test)"),
                                    settings: try Settings(specs: [], provided: [:]), interval: .seconds(60), timeout: .seconds(10),
                                    severity: ["demo.b": .critical], pendingFor: ["demo.a": .seconds(600)])
        var findings: [Finding] = []
        for (index, unit) in ["20107", "20108", "502", "49", "unknown"].enumerated() {
            for rule in [TwoRules.b, TwoRules.a] {
                findings.append(Finding(rule: rule, subject: Subject(kind: "unit", id: unit, name: unit, unitID: unit)))
                // Own labels: one new, one over a hierarchy label, one over the labeller's own.
                findings.append(Finding(rule: rule, subject: Subject(kind: "project", id: "p\(index)", name: "p", unitID: unit),
                                        labels: ["occurrence": "2025", "province": "own", "check": "own"]))
            }
        }
        findings.append(Finding(rule: TwoRules.a, subject: Subject(kind: "receiver", id: "r", name: "r")))
        // Two of one fingerprint, apart in the run: the tracker keeps the first.
        findings.append(Finding(rule: TwoRules.a, subject: Subject(kind: "unit", id: "48", name: "48", unitID: "48"),
                                values: ["n": .integer(1)]))
        findings.insert(Finding(rule: TwoRules.a, subject: Subject(kind: "unit", id: "48", name: "48", unitID: "48"),
                                values: ["n": .integer(0), "source": .text("KH 15 §2")]), at: 3)
        let found = Array(await labeler.labelling(findings, of: check, slice: 4, cores: 3))
        #expect(found.count == findings.count)
        let labelled = found.map { $0.labeled() }
        for (one, whole) in zip(found, labelled) {
            #expect(one.key == AlertKey(whole.fingerprint) && one.severity == whole.severity && one.pendingFor == whole.pendingFor)
            #expect(one.contentHash == whole.contentHash)
        }
        #expect(labelled.map { $0.finding.ruleID == "demo.b" ? Severity.critical : .warning } == labelled.map(\.severity))
        #expect(labelled.map { $0.finding.ruleID == "demo.a" ? Duration.seconds(600) : .zero } == labelled.map(\.pendingFor))
        let twins = labelled.filter { $0.finding.subject.id == "48" && $0.finding.ruleID == "demo.a" && $0.finding.subject.kind == "unit" }
        #expect(twins.map { $0.finding.values["n"] } == [.integer(0), .integer(1)])
        #expect(twins.first?.source == "KH 15 §2")
        let whole = await labeler.labelling(findings, of: check, slice: .max, cores: 3).map { $0.labeled() }
        #expect(whole.map(\.fingerprint) == labelled.map(\.fingerprint))
        #expect(whole.map(\.finding.values) == labelled.map(\.finding.values))
        for found in labelled {
            #expect(found.fingerprint == Fingerprint.of(found.labels))
            var expected = labeler.hierarchy(of: found.finding.subject.unitID)
            expected.merge(found.finding.labels) { _, own in own }
            for (name, value) in ["alertname": found.finding.ruleID, "rule": found.finding.ruleID, "check": "demo", "instance": "test",
                                  "subject_kind": found.finding.subject.kind, "subject_id": found.finding.subject.id] {
                expected[name] = value
            }
            #expect(found.labels == expected)
        }
        #expect(labelled.filter { $0.finding.labels["province"] == "own" }.allSatisfy { $0.labels["province"] == "own" })
        let keys = labelled.map { ($0.finding.ruleID, $0.fingerprint) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { !($1 < $0) })
        #expect(await labeler.label(findings, of: check).map(\.fingerprint) == labelled.map(\.fingerprint))
    }

    /// The labelled findings as the labeller made them whole before the tracker read them lazily
    /// (84b1e37): the reference the lazy ones are checked against.
    static func madeWhole(_ findings: [Finding], labeler: Labeler, check: ConfiguredCheck) -> [LabeledFinding] {
        let descriptor = check.module.descriptor
        var made: [(LabeledFinding, Int)] = []
        for (index, finding) in findings.enumerated() {
            let rule = descriptor.rule(finding.ruleID)
            var labels = labeler.hierarchy(of: finding.subject.unitID)
            labels.merge(finding.labels) { _, own in own }
            for (name, value) in ["alertname": finding.ruleID, "rule": finding.ruleID, "check": check.name, "instance": labeler.instance,
                                  "subject_kind": finding.subject.kind, "subject_id": finding.subject.id] { labels[name] = value }
            made.append((LabeledFinding(
                finding: finding, check: check.name, messageID: rule?.messageID ?? MetaRules.moduleFailed.messageID,
                labels: labels, severity: check.severity[finding.ruleID] ?? finding.severity,
                pendingFor: check.pendingFor[finding.ruleID] ?? rule?.pendingFor ?? .zero,
                source: finding.values["source"]?.plain ?? rule?.source?.description), index))
        }
        made.sort { ($0.0.finding.ruleID, $0.0.fingerprint, $0.1) < ($1.0.finding.ruleID, $1.0.fingerprint, $1.1) }
        return made.map(\.0)
    }

    /// Random runs of findings: rules with and without their own source and `for`, one the module
    /// does not declare, overrides of the check, findings naming their own source, units known,
    /// unknown and none, own labels over the hierarchy's and the labeller's, fingerprints repeated.
    static func randomFindings(_ count: Int, seed: UInt64) -> [Finding] {
        var random = SplitMix(seed: seed)
        func next(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let rules = [ThreeRules.c, ThreeRules.a, ThreeRules.undeclared, ThreeRules.b]
        let units: [String?] = ["20107", "20108", "502", "49", "48", "unknown", nil]
        var rule = rules[0]
        return (0..<count).map { _ in
            if next(4) == 0 { rule = rules[next(rules.count)] }
            var labels: [String: String] = [:]
            if next(3) == 0 { labels["occurrence"] = "\(next(2))" }
            if next(5) == 0 { labels["province"] = "own" }
            if next(7) == 0 { labels["check"] = "own" }
            var values: [String: Value] = ["n": .integer(Int64(next(1000)))]
            if next(4) == 0 { values["source"] = .text("KH \(next(3))") }
            return Finding(rule: rule, subject: Subject(kind: next(2) == 0 ? "unit" : "project", id: "s\(next(6))", name: "x",
                                                        unitID: units[next(units.count)]),
                           severity: next(2) == 0 ? nil : .info, labels: labels, values: values)
        }
    }

    /// Each lazy finding is the one made whole before (key, severity, `for`, content hash and
    /// the labelled finding itself), in the same order, however the run is sliced; and a tracker
    /// fed either records the same steps over three cycles (found again, then changed). Five
    /// findings in four slices: cut in slices of two, the last would start past the end.
    @Test(arguments: [0, 1, 2, 3, 5, 17, 200, 1000])
    func lazyFindingsAreTheFindingsMadeWhole(count: Int) async throws {
        let labeler = Self.labeler(on: Self.reform)
        let check = ConfiguredCheck(name: "demo", module: LoadedModule(module: ThreeRules(), path: "(test)"),
                                    settings: try Settings(specs: [], provided: [:]), interval: .seconds(60), timeout: .seconds(10),
                                    severity: ["demo.b": .critical, "demo.undeclared": .notice],
                                    pendingFor: ["demo.a": .seconds(600), "demo.undeclared": .seconds(7)])
        for seed in UInt64(1)...3 {
            let findings = Self.randomFindings(count, seed: seed)
            let expected = Self.madeWhole(findings, labeler: labeler, check: check)
            for slice in [0, 1, 2, 3, 7, 100, Int.max] {
                let found = Array(await labeler.labelling(findings, of: check, slice: slice, cores: 4))
                #expect(found.count == expected.count)
                for (one, want) in zip(found, expected) {
                    #expect(one.key == AlertKey(want.fingerprint) && one.severity == want.severity && one.pendingFor == want.pendingFor)
                    #expect(one.contentHash == want.contentHash)
                    #expect(one.labeled() == want)
                }
            }
            var whole = AlertTracker(), lazy = AlertTracker()
            for (hour, run) in [(0.0, findings), (1.0, findings), (30.0, Self.randomFindings(count, seed: seed &+ 100))] {
                let at = Date(timeIntervalSince1970: 1_730_000_000 + hour * 3600)
                let a = whole.apply(scope: "demo", findings: Self.madeWhole(run, labeler: labeler, check: check), at: at) { _ in nil }
                let b = lazy.apply(scope: "demo", findings: await labeler.labelling(run, of: check, slice: 3, cores: 2), at: at) { _ in nil }
                #expect(a.changed == b.changed && a.notifications == b.notifications)
                #expect(a.transitions == b.transitions && a.dropped == b.dropped)
            }
        }
    }
}

/// Rules with and without their own source and `for`; `undeclared` is not in the descriptor.
private struct ThreeRules: CheckModule {
    static let a = Rule(id: "demo.a", title: LocalizedText(vi: "a", en: "a"), defaultSeverity: .warning,
                        messageID: "0123456789abcdef0123456789abcdea", template: LocalizedText(vi: "a", en: "a"),
                        source: RuleSource("002", "IV.9"), pendingFor: .seconds(300))
    static let b = Rule(id: "demo.b", title: LocalizedText(vi: "b", en: "b"), defaultSeverity: .error,
                        messageID: "0123456789abcdef0123456789abcdeb", template: LocalizedText(vi: "b", en: "b"),
                        pendingFor: .seconds(120))
    static let c = Rule(id: "demo.c", title: LocalizedText(vi: "c", en: "c"), defaultSeverity: .notice,
                        messageID: "0123456789abcdef0123456789abcdec", template: LocalizedText(vi: "c", en: "c"),
                        source: RuleSource("007"))
    static let undeclared = Rule(id: "demo.undeclared", title: LocalizedText(vi: "z", en: "z"), defaultSeverity: .info,
                                 messageID: "0123456789abcdef0123456789abcdef", template: LocalizedText(vi: "z", en: "z"))
    var descriptor: ModuleDescriptor {
        ModuleDescriptor(name: "demo", version: "1", summary: LocalizedText(vi: "x", en: "x"), settings: [], rules: [Self.a, Self.b, Self.c])
    }

    func evaluate(_ context: EvaluationContext) async throws -> [Finding] { [] }
}

private struct TwoRules: CheckModule {
    static let a = Rule(id: "demo.a", title: LocalizedText(vi: "a", en: "a"), defaultSeverity: .warning,
                        messageID: "0123456789abcdef0123456789abcdea", template: LocalizedText(vi: "a", en: "a"))
    static let b = Rule(id: "demo.b", title: LocalizedText(vi: "b", en: "b"), defaultSeverity: .warning,
                        messageID: "0123456789abcdef0123456789abcdeb", template: LocalizedText(vi: "b", en: "b"))
    var descriptor: ModuleDescriptor {
        ModuleDescriptor(name: "demo", version: "1", summary: LocalizedText(vi: "x", en: "x"), settings: [], rules: [Self.a, Self.b])
    }

    func evaluate(_ context: EvaluationContext) async throws -> [Finding] { [] }
}
