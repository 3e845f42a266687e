import CheckKit
import Foundation
import Testing
@testable import NTMAlerting

@Suite struct RouterTests {
    @Test func matchersParseAndMatchAsAlertmanagers() throws {
        let equal = try LabelMatcher(parsing: "rule=deadline.overdue")
        #expect(equal.op == .equal && equal.name == "rule" && equal.value == "deadline.overdue")
        let notEqual = try LabelMatcher(parsing: "commune!=\"20107\"")
        #expect(notEqual.op == .notEqual && notEqual.value == "20107")
        let regex = try LabelMatcher(parsing: "rule=~deadline\\..*")
        #expect(regex.matches(["rule": "deadline.overdue"]))
        // Anchored at both ends, as Alertmanager's.
        #expect(!regex.matches(["rule": "x.deadline.overdue"]))
        let notRegex = try LabelMatcher(parsing: "severity!~info|notice")
        #expect(notRegex.matches(["severity": "critical"]) && !notRegex.matches(["severity": "info"]))
        // A missing label is the empty string.
        #expect(try LabelMatcher(parsing: "district=").matches([:]))
        #expect(throws: LabelMatcher.InvalidMatcher.self) { try LabelMatcher(parsing: "rule=~(") }
        #expect(throws: LabelMatcher.InvalidMatcher.self) { try LabelMatcher(parsing: "no operator") }
        #expect(throws: LabelMatcher.InvalidMatcher.self) { try LabelMatcher(parsing: "1bad=x") }
    }

    @Test func destinationsCarryGroupKeysAndHonourContinue() throws {
        let router = Router(root: Route(receiver: "province", groupBy: ["rule"], routes: [
            Route(receiver: "dai-loc", matchers: [try LabelMatcher(parsing: "district=502")], continueMatching: true),
            Route(receiver: "escalations", matchers: [try LabelMatcher(parsing: "escalation_target=~.+")]),
        ]))
        let labels = ["rule": "deadline.overdue", "district": "502", "escalation_target": "500"]
        let destinations = router.destinations(for: labels)
        #expect(destinations.map(\.receiver) == ["dai-loc", "escalations"])
        #expect(destinations.map(\.routePath) == ["0.0", "0.1"])
        #expect(router.destinations(for: ["rule": "x"]).map(\.receiver) == ["province"])
    }

    @Test func fingerprintsAreAlertmanagers() {
        // Alertmanager's model.LabelSet{"a": "b"}.Fingerprint() and the empty set.
        #expect(Fingerprint.of([:]) == "cbf29ce484222325")
        #expect(Fingerprint.hex(0x0123_4567_89ab_cdef) == "0123456789abcdef")
    }
}
