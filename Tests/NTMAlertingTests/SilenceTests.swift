import CheckKit
import Foundation
import Testing
@testable import NTMAlerting
import NTMAlertingTestSupport

/// Silences and inhibition on the tracker, with instants chosen by the test.
@Suite struct SilenceTests {
    static let rules = [
        "deadline.overdue", "deadline.overdue_escalated", "deadline.due_soon",
    ].map { Rule(id: $0, title: LocalizedText(vi: $0, en: $0), defaultSeverity: .warning, messageID: String(repeating: "1", count: 32),
                 template: LocalizedText(vi: "{subject}", en: "{subject}")) }
    let t0 = Date(timeIntervalSince1970: 1_730_000_000)
    func hours(_ h: Double) -> Date { t0.addingTimeInterval(h * 3600) }

    func finding(_ rule: String, _ subject: String, commune: String = "20107") -> LabeledFinding {
        let rule = Self.rules.first { $0.id == rule }!
        let finding = Finding(rule: rule, subject: Subject(kind: "obligation", id: subject, name: subject))
        return LabeledFinding(finding: finding, check: "deadline", messageID: rule.messageID,
                              labels: ["check": "deadline", "rule": rule.id, "subject_id": subject, "commune": commune],
                              severity: .warning, pendingFor: .zero)
    }

    func silence(_ matchers: [String], from: Double, to: Double, id: String = "s1") throws -> Silence {
        try Silence(id: id, matchers: matchers.map { try LabelMatcher(parsing: $0) }, startsAt: hours(from), endsAt: hours(to),
                    createdBy: "test", comment: "gia hạn đến 31/01")
    }

    /// One run of the `deadline` scope, muted as the engine does.
    func run(_ tracker: inout RecordingTracker, _ findings: [LabeledFinding], at h: Double, muting: Muting) -> AlertTracker.Step {
        var step = tracker.apply(scope: "deadline", findings: findings, at: hours(h))
        tracker.mute(&step, scopes: ["deadline"], with: muting, at: hours(h))
        return step
    }

    @Test func aSilencedAlertIsTrackedButNotNotifiedAndIsNotifiedAsFiringWhenTheSilenceEnds() throws {
        let muting = Muting(silences: [try silence(["rule=deadline.overdue", "commune=20107"], from: 0, to: 48)], inhibitRules: [])
        var tracker = RecordingTracker()
        let both = [finding("deadline.overdue", "A"), finding("deadline.overdue", "B", commune: "20108")]
        func told(_ step: AlertTracker.Step) -> [NTMAlerting.Notification.Reason] { step.notifications.filter { $0.alert.subject.id == "A" }.map(\.reason) }
        let first = run(&tracker, both, at: 1, muting: muting)
        #expect(first.notifications.map(\.alert.subject.id) == ["B"])
        let muted = try #require(tracker.active.values.first { $0.subject.id == "A" })
        #expect(muted.status == .firing && muted.silencedBy == ["s1"] && muted.lastNotifiedAt == nil)
        #expect(first.transitions.contains { $0.fingerprint == muted.fingerprint && $0.silencedBy == "s1" })
        #expect(first.changed.first { $0.fingerprint == muted.fingerprint }?.silencedBy == ["s1"])
        // Still muted a day later, past the repeat interval.
        #expect(told(run(&tracker, both, at: 30, muting: muting)).isEmpty)
        // The silence has ended and the alert still fires: it is told as firing, and the history says the mute ended.
        let after = run(&tracker, both, at: 49, muting: muting)
        #expect(told(after) == [.firing])
        #expect(after.transitions.contains { $0.fingerprint == muted.fingerprint && $0.silencedBy == nil && $0.from == .firing && $0.to == .firing })
        #expect(tracker.active[muted.fingerprint]?.silencedBy == nil)
    }

    @Test func aSilenceAddedAfterTheFiringNotificationMutesTheRepeatAndTheResolution() throws {
        var tracker = RecordingTracker()
        let none = Muting(silences: [], inhibitRules: [])
        #expect(run(&tracker, [finding("deadline.overdue", "A")], at: 0, muting: none).notifications.map(\.reason) == [.firing])
        let muting = Muting(silences: [try silence(["subject_id=A"], from: 1, to: 100)], inhibitRules: [])
        #expect(run(&tracker, [finding("deadline.overdue", "A")], at: 25, muting: muting).notifications.isEmpty)
        let resolved = run(&tracker, [], at: 26, muting: muting)
        #expect(resolved.notifications.isEmpty)
        #expect(resolved.transitions.map(\.to) == [.resolved])
    }

    @Test func aPendingOrExpiredSilenceMutesNothing() throws {
        let muting = Muting(silences: [try silence(["subject_id=A"], from: 10, to: 20)], inhibitRules: [])
        var early = RecordingTracker()
        #expect(run(&early, [finding("deadline.overdue", "A")], at: 5, muting: muting).notifications.count == 1)
        var late = RecordingTracker()
        #expect(run(&late, [finding("deadline.overdue", "A")], at: 20, muting: muting).notifications.count == 1)
    }

    @Test func theDefaultInhibitionMutesTheOverdueAlertOfAnEscalatedDutyOnly() {
        let muting = Muting(silences: [], inhibitRules: InhibitRule.defaults)
        var tracker = RecordingTracker()
        let step = run(&tracker, [
            finding("deadline.overdue", "A"), finding("deadline.overdue_escalated", "A"), finding("deadline.overdue", "B"),
        ], at: 0, muting: muting)
        #expect(step.notifications.map { "\($0.alert.ruleID) \($0.alert.subject.id)" }.sorted()
                == ["deadline.overdue B", "deadline.overdue_escalated A"])
        let source = tracker.active.values.first { $0.ruleID == "deadline.overdue_escalated" }!
        let target = tracker.active.values.first { $0.ruleID == "deadline.overdue" && $0.subject.id == "A" }!
        #expect(target.inhibitedBy == source.fingerprint && target.silencedBy == nil)
        #expect(step.transitions.contains { $0.fingerprint == target.fingerprint && $0.silencedBy == "inhibited:\(source.fingerprint)" })
        // The escalation is gone (the duty is back under the threshold): the overdue alert is told.
        let after = run(&tracker, [finding("deadline.overdue", "A"), finding("deadline.overdue", "B")], at: 1, muting: muting)
        #expect(after.notifications.map { "\($0.reason.rawValue) \($0.alert.ruleID) \($0.alert.subject.id)" }.sorted()
                == ["firing deadline.overdue A", "resolved deadline.overdue_escalated A"])
    }

    /// An inhibited alert never told is due again at each run and muted again: no change to
    /// record. It was written and counted as changed at every run (issue 21: 8,900 alerts at
    /// every national `deadline` run). A silenced one the same.
    @Test func aMutedAlertFoundAgainAsItWasIsNoChange() throws {
        let silence = try silence(["subject_id=B"], from: 0, to: 100)
        let muting = Muting(silences: [silence], inhibitRules: InhibitRule.defaults)
        var tracker = RecordingTracker()
        let findings = [finding("deadline.overdue", "A"), finding("deadline.overdue_escalated", "A"), finding("deadline.overdue", "B")]
        let first = run(&tracker, findings, at: 0, muting: muting)
        #expect(first.changed.count == 3 && first.notifications.map(\.alert.ruleID) == ["deadline.overdue_escalated"])
        let before = tracker.tracker.active
        let again = run(&tracker, findings, at: 1, muting: muting)
        #expect(again.changed.isEmpty && again.notifications.isEmpty && again.transitions.isEmpty)
        #expect(tracker.tracker.active == before)
        // A real change of a muted alert is still one: its severity.
        var worse = findings
        worse[0] = LabeledFinding(finding: worse[0].finding, check: "deadline", messageID: worse[0].messageID,
                                  labels: worse[0].labels, severity: .critical, pendingFor: .zero)
        let changed = run(&tracker, worse, at: 2, muting: muting)
        #expect(changed.changed.map(\.subject.id) == ["A"] && changed.changed[0].severity == .critical)
        #expect(changed.notifications.isEmpty)
    }

    @Test func alertsMatchingBothSidesOfARuleDoNotInhibitEachOther() throws {
        let rule = InhibitRule(sourceMatchers: [try LabelMatcher(parsing: "check=deadline")],
                               targetMatchers: [try LabelMatcher(parsing: "check=deadline")], equal: ["commune"])
        var tracker = RecordingTracker()
        let step = run(&tracker, [finding("deadline.overdue", "A"), finding("deadline.overdue", "B")], at: 0,
                       muting: Muting(silences: [], inhibitRules: [rule]))
        #expect(step.notifications.count == 2)
    }

    @Test func silencesRefuseBadMatchersAndMatchersThatMuteEverything() throws {
        #expect(throws: LabelMatcher.InvalidMatcher.self) { try LabelMatcher(parsing: "rule=~deadline.(") }
        #expect(throws: LabelMatcher.InvalidMatcher.self) { try LabelMatcher(parsing: "just-text") }
        #expect(throws: Silence.Invalid.self) { try silence(["rule=~.*"], from: 0, to: 1) }
        #expect(throws: Silence.Invalid.self) { try silence(["rule=x"], from: 2, to: 1) }
        #expect(throws: Silence.Invalid.self) { try silence([], from: 0, to: 1) }
    }

    /// What `amtool silence query -o json` prints (Alertmanager 0.27), nanoseconds included.
    static let amtoolJSON = """
        [{"id":"7d8f0a3e-1c2b-4d5e-9f60-123456789abc","status":{"state":"active"},"updatedAt":"2025-01-10T02:03:04.123456789Z",
          "comment":"Gia hạn đến 31/01","createdBy":"Nguyễn Văn A","endsAt":"2025-01-31T16:59:59.999999999Z",
          "matchers":[{"isEqual":true,"isRegex":false,"name":"rule","value":"deadline.overdue"},
                      {"isEqual":false,"isRegex":true,"name":"commune","value":"201(07|08)"},
                      {"isRegex":false,"name":"check","value":"deadline"}],
          "startsAt":"2025-01-10T02:03:04.123Z"}]
        """

    @Test func alertmanagerSilenceJSONRoundTrips() throws {
        let decoded = try JSONDecoder().decode([AlertmanagerSilence].self, from: Data(Self.amtoolJSON.utf8))
        let silence = try decoded[0].silence(position: "amtool.json: [0]")
        #expect(silence.id == "7d8f0a3e-1c2b-4d5e-9f60-123456789abc")
        #expect(silence.matchers.map(\.description) == [#"rule="deadline.overdue""#, #"commune!~"201(07|08)""#, #"check="deadline""#])
        #expect(silence.createdBy == "Nguyễn Văn A" && silence.comment == "Gia hạn đến 31/01")
        #expect(abs(silence.endsAt.timeIntervalSince1970 - 1_738_342_799.999) < 0.001)
        #expect(silence.mutes(["rule": "deadline.overdue", "commune": "20109", "check": "deadline"], at: silence.startsAt))
        #expect(!silence.mutes(["rule": "deadline.overdue", "commune": "20107", "check": "deadline"], at: silence.startsAt))
        let exported = AlertmanagerSilence(silence, at: silence.endsAt)
        #expect(exported.status?.state == "expired")
        #expect(exported.matchers[1] == .init(name: "commune", value: "201(07|08)", isRegex: true, isEqual: false))
        let again = try exported.silence(position: "x")
        #expect(again.matchers == silence.matchers)
        // Milliseconds survive the round trip; Alertmanager's nanoseconds do not.
        #expect(abs(again.startsAt.timeIntervalSince(silence.startsAt)) < 0.002 && abs(again.endsAt.timeIntervalSince(silence.endsAt)) < 0.002)
        var broken = decoded[0]
        broken.matchers[1].value = "201("
        #expect(throws: Silence.Invalid.self) { try broken.silence(position: "amtool.json: [0]") }
    }
}
