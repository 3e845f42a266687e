import CheckKit
import Foundation
import NTMAlerting
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
        let found = Array(await labeler.labelling(findings, of: check, slice: 4))
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
        let whole = await labeler.labelling(findings, of: check, slice: .max).map { $0.labeled() }
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
