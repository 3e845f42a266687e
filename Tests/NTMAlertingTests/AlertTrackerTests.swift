import CheckKit
import Foundation
import Testing
@testable import NTMAlerting
import NTMAlertingTestSupport

/// The alert lifecycle state machine, step by step, with instants chosen by the test.
@Suite struct AlertTrackerTests {
    static let rule = Rule(id: "demo.late", title: LocalizedText(vi: "Trễ hạn", en: "Late"), defaultSeverity: .warning,
                           messageID: "11111111111111111111111111111111",
                           template: LocalizedText(vi: "{subject} trễ hạn", en: "{subject} is late"))
    let t0 = Date(timeIntervalSince1970: 1_730_000_000)

    func finding(_ subject: String, severity: Severity = .warning, pendingFor: Duration = .zero) -> LabeledFinding {
        let finding = Finding(rule: Self.rule, subject: Subject(kind: "unit", id: subject, name: subject), severity: severity)
        return LabeledFinding(finding: finding, check: "demo", messageID: Self.rule.messageID,
                              labels: ["check": "demo", "rule": Self.rule.id, "subject_id": subject],
                              severity: severity, pendingFor: pendingFor)
    }

    func hours(_ h: Double) -> Date { t0.addingTimeInterval(h * 3600) }

    @Test func firesOnceAndDoesNotRenotifyOnEveryTick() {
        var tracker = RecordingTracker()
        #expect(tracker.apply(scope: "demo", findings: [finding("A")], at: t0).notifications.map(\.reason) == [.firing])
        for h in 1...23 {
            #expect(tracker.apply(scope: "demo", findings: [finding("A")], at: hours(Double(h))).notifications.isEmpty)
        }
        // Warning repeats after 24 hours by default.
        #expect(tracker.apply(scope: "demo", findings: [finding("A")], at: hours(24)).notifications.map(\.reason) == [.repeated])
        #expect(tracker.apply(scope: "demo", findings: [finding("A")], at: hours(25)).notifications.isEmpty)
    }

    @Test func severityChangeIsANewNotificationAndTheRepeatIntervalFollowsSeverity() {
        var tracker = RecordingTracker(repeatInterval: [.critical: .seconds(3600), .warning: .seconds(86_400)])
        _ = tracker.apply(scope: "demo", findings: [finding("A")], at: t0)
        let raised = tracker.apply(scope: "demo", findings: [finding("A", severity: .critical)], at: hours(1))
        #expect(raised.notifications.map(\.reason) == [.severityChanged])
        #expect(raised.notifications.first?.alert.severity == .critical)
        #expect(tracker.apply(scope: "demo", findings: [finding("A", severity: .critical)], at: hours(1.5)).notifications.isEmpty)
        #expect(tracker.apply(scope: "demo", findings: [finding("A", severity: .critical)], at: hours(2)).notifications.map(\.reason) == [.repeated])
    }

    /// The tracker's fast path (issue 21): a finding seen again unchanged is no change to record;
    /// a new value is recorded without a notification; alerts handed out in a step keep their
    /// values when the tracker's copy changes later (one shared, copy-on-write box).
    @Test func anUnchangedFindingRecordsNothingAndANewValueIsRecordedQuietly() {
        func with(_ days: Int64) -> LabeledFinding {
            var labeled = finding("A")
            labeled.finding.values = ["days_late": .integer(days)]
            return labeled
        }
        var tracker = RecordingTracker()
        let first = tracker.apply(scope: "demo", findings: [with(3)], at: t0)
        #expect(first.changed.count == 1 && first.transitions.count == 1)
        let again = tracker.apply(scope: "demo", findings: [with(3)], at: hours(1))
        #expect(again.changed.isEmpty && again.transitions.isEmpty && again.notifications.isEmpty)
        let moved = tracker.apply(scope: "demo", findings: [with(4)], at: hours(2))
        #expect(moved.changed.map { $0.values["days_late"] } == [.integer(4)])
        #expect(moved.notifications.isEmpty && moved.transitions.isEmpty)
        #expect(first.changed.first?.values["days_late"] == .integer(3))
        #expect(first.notifications.first?.alert.values["days_late"] == .integer(3))
        #expect(tracker.active.values.first?.values["days_late"] == .integer(4))
    }

    @Test func pendingForHoldsTheAlertBackAndADropWhilePendingSaysNothing() {
        var tracker = RecordingTracker()
        let held = finding("A", pendingFor: .seconds(2 * 3600))
        let first = tracker.apply(scope: "demo", findings: [held], at: t0)
        #expect(first.notifications.isEmpty)
        #expect(tracker.active.values.first?.status == .pending)
        #expect(tracker.apply(scope: "demo", findings: [held], at: hours(1)).notifications.isEmpty)
        let fired = tracker.apply(scope: "demo", findings: [held], at: hours(2))
        #expect(fired.notifications.map(\.reason) == [.firing])
        #expect(fired.notifications.first?.alert.firingSince == hours(2))
        #expect(fired.notifications.first?.alert.activeSince == t0)

        var other = RecordingTracker()
        _ = other.apply(scope: "demo", findings: [held], at: t0)
        let gone = other.apply(scope: "demo", findings: [], at: hours(1))
        #expect(gone.notifications.isEmpty)
        #expect(gone.dropped.count == 1)
        #expect(other.active.isEmpty)
    }

    @Test func aClearedFindingResolvesOnceAndOnlyWithinItsScope() {
        var tracker = RecordingTracker()
        _ = tracker.apply(scope: "demo", findings: [finding("A"), finding("B")], at: t0)
        _ = tracker.apply(scope: "other", findings: [finding("C")], at: t0)
        let step = tracker.apply(scope: "demo", findings: [finding("B")], at: hours(1))
        #expect(step.notifications.map(\.reason) == [.resolved])
        #expect(step.notifications.first?.alert.subject.id == "A")
        #expect(step.notifications.first?.alert.resolvedAt == hours(1))
        #expect(tracker.apply(scope: "demo", findings: [finding("B")], at: hours(2)).notifications.isEmpty)
        #expect(tracker.active.values.map(\.subject.id).sorted() == ["B", "C"])

        let retired = tracker.retire(keeping: ["demo"], at: hours(3))
        #expect(retired.notifications.map(\.alert.subject.id) == ["C"])
    }

    /// The tracker keeps each alert's lifecycle, not its content (issue 21): it asks for the
    /// recorded alert only when a step needs one whole that no finding brings. A resolution tells
    /// the content as last recorded; a steady run asks for nothing; a new value with the same
    /// severity is still seen as a change.
    @Test func theTrackerAsksForTheRecordedAlertOnlyToResolveIt() {
        var tracker = AlertTracker()
        var recorded: [String: Alert] = [:]
        var asked: [String] = []
        func run(_ findings: [LabeledFinding], at instant: Date) -> AlertTracker.Step {
            let step = tracker.apply(scope: "demo", findings: findings, at: instant) { fingerprint in
                asked.append(fingerprint)
                return recorded[fingerprint]
            }
            for alert in step.changed { recorded[alert.fingerprint] = alert }
            return step
        }
        var late = finding("A")
        late.finding.values = ["days_late": .integer(3)]
        late.finding.template = LocalizedText(vi: "{subject} trễ {days_late} ngày", en: "{subject} is {days_late} days late")
        _ = run([late, finding("B")], at: t0)
        #expect(run([late, finding("B")], at: hours(1)).changed.isEmpty)
        late.finding.values = ["days_late": .integer(4)]
        #expect(run([late, finding("B")], at: hours(2)).changed.map { $0.values["days_late"] } == [.integer(4)])
        #expect(asked.isEmpty)

        let resolved = run([finding("B")], at: hours(3))
        #expect(asked == [late.fingerprint])
        let told = resolved.notifications.first
        #expect(told?.reason == .resolved && told?.alert.values["days_late"] == .integer(4))
        #expect(told?.alert.summary.vi == "\(late.finding.subject.name) trễ 4 ngày" && told?.alert.resolvedAt == hours(3))
        #expect(told?.alert.lastNotifiedAt == hours(3) && told?.alert.activeSince == t0)
    }

    /// Alerts keep their finding's template and render it when read (issue 21). A state recorded
    /// before (its summaries as text, format 1) is written again once with the template on the
    /// first run that finds the alert unchanged, without a notification; then it is steady again.
    @Test func anAlertRecordedAsTextTakesItsTemplateOnceWithoutANotification() {
        var firstRun = AlertTracker()
        let found = finding("A")
        var recorded = firstRun.apply(scope: "demo", findings: [found], at: t0) { _ in nil }.changed[0]
        #expect(recorded.message == .template(Self.rule.template) && recorded.summary.vi == "A trễ hạn")
        recorded.message = .rendered(recorded.summary)
        var tracker = AlertTracker(active: [TrackedAlert(recorded)])
        let step = tracker.apply(scope: "demo", findings: [found], at: hours(1)) { _ in nil }
        #expect(step.changed.map(\.message) == [.template(Self.rule.template)])
        #expect(step.notifications.isEmpty && step.transitions.isEmpty)
        #expect(tracker.apply(scope: "demo", findings: [found], at: hours(2)) { _ in nil }.changed.isEmpty)
        // Another template for the same values is a change too: the text people read changed.
        var reworded = found
        reworded.finding.template = LocalizedText(vi: "{subject} chậm", en: "{subject} is behind")
        #expect(tracker.apply(scope: "demo", findings: [reworded], at: hours(3)) { _ in nil }.changed.map(\.summary.en) == ["A is behind"])
    }

    /// The content is compared by a hash of its bytes: every field of it, and every kind of
    /// value, tells a change; the same content in another dictionary order does not.
    @Test func everyPartOfTheContentTellsAChange() {
        let values: [String: Value] = [
            "text": .text("Đại Chánh"), "integer": .integer(7), "number": .number(0.5), "bool": .bool(false),
            "date": .date(CivilDate(year: 2025, month: 6, day: 30)!), "instant": .instant(t0), "amount": .amountVND(1_000),
            "percent": .percent(92.5), "list": .list(["a", "b"]), "localized": .localized(LocalizedText(vi: "Chưa", en: "Not")),
        ]
        var base = finding("A")
        base.finding.values = values
        base.source = "002 §IV.9"
        var variants: [LabeledFinding] = []
        for (key, value) in values {
            var changed = base
            changed.finding.values[key] = switch value {
            case .text: .text("Đại Chánh ")
            case .integer: .integer(8)
            case .number: .number(0.25)
            case .bool: .bool(true)
            case .date: .date(CivilDate(year: 2025, month: 7, day: 1)!)
            case .instant: .instant(t0.addingTimeInterval(1))
            case .amountVND: .amountVND(1_001)
            case .percent: .percent(92.6)
            case .list: .list(["a", "b", ""])
            case .localized: .localized(LocalizedText(vi: "Chưa", en: "Not yet"))
            }
            variants.append(changed)
            // The same value under another key is another content too.
            var moved = base
            moved.finding.values[key] = nil
            moved.finding.values[key + "_"] = value
            variants.append(moved)
        }
        for change in [{ (f: inout LabeledFinding) in f.finding.subject.name = "A " },
                       { (f: inout LabeledFinding) in f.finding.subject.kind = "project" },
                       { (f: inout LabeledFinding) in f.finding.subject.unitID = "A" },
                       { (f: inout LabeledFinding) in f.source = nil },
                       { (f: inout LabeledFinding) in f.finding.template.en = "{subject} late" }] {
            var changed = base
            change(&changed)
            variants.append(changed)
        }
        for variant in variants {
            var tracker = AlertTracker()
            _ = tracker.apply(scope: "demo", findings: [base], at: t0) { _ in nil }
            var reordered = base
            reordered.finding.values = Dictionary(uniqueKeysWithValues: values.reversed())
            #expect(tracker.apply(scope: "demo", findings: [reordered], at: hours(1)) { _ in nil }.changed.isEmpty)
            #expect(tracker.apply(scope: "demo", findings: [variant], at: hours(2)) { _ in nil }.changed.count == 1,
                    "\(variant.finding.values) \(variant.finding.subject) \(variant.source ?? "-")")
        }
    }

    /// Contents built to feed the same bytes to a hash that wrote each text's length after it
    /// (found in review): lengths now go first, so they differ.
    @Test func contentsThatRunIntoEachOtherStillDiffer() {
        var one = finding("A"), other = finding("A")
        one.finding.values = [String(repeating: "\0", count: 9): .integer(9)]
        other.finding.values = ["": .text("\t\0\0\0\0\0\0\0\u{1}")]
        var tracker = AlertTracker()
        _ = tracker.apply(scope: "demo", findings: [one], at: t0) { _ in nil }
        #expect(tracker.apply(scope: "demo", findings: [other], at: hours(1)) { _ in nil }.changed.count == 1)
    }

    /// `rule` is read from the field only where the labels say the same; otherwise the labels
    /// answer, as for any other name.
    @Test func theRuleLabelIsTheLabelsOwn() {
        var tracker = AlertTracker()
        var own = finding("A"), other = finding("B"), none = finding("C")
        other.labels["rule"] = "something.else"
        none.labels["rule"] = nil
        own = LabeledFinding(finding: own.finding, check: own.check, messageID: own.messageID, labels: own.labels,
                             severity: own.severity, pendingFor: own.pendingFor)
        other = LabeledFinding(finding: other.finding, check: other.check, messageID: other.messageID, labels: other.labels,
                               severity: other.severity, pendingFor: other.pendingFor)
        none = LabeledFinding(finding: none.finding, check: none.check, messageID: none.messageID, labels: none.labels,
                              severity: none.severity, pendingFor: none.pendingFor)
        _ = tracker.apply(scope: "demo", findings: [own, other, none], at: t0) { _ in nil }
        #expect(tracker[fingerprint: own.fingerprint]?.notificationLabel("rule") == Self.rule.id)
        #expect(tracker[fingerprint: other.fingerprint]?.notificationLabel("rule") == "something.else")
        #expect(tracker[fingerprint: none.fingerprint]?.notificationLabel("rule") == nil)
        #expect(tracker.compacted()[fingerprint: other.fingerprint]?.notificationLabel("rule") == "something.else")
    }

    /// A compacted tracker (issue 21: the daemon copies its alerts into fresh memory after a run
    /// that made many) holds the same alerts in storage of their own, and goes on exactly as the
    /// original would.
    @Test func aCompactedTrackerIsTheSameInFreshMemory() {
        var tracker = AlertTracker()
        let subjects = (0..<50).map { "Thôn số \($0) của xã Đại Chánh" }
        _ = tracker.apply(scope: "demo", findings: subjects.map { finding($0) }, at: t0) { _ in nil }
        _ = tracker.apply(scope: "demo", findings: subjects.dropFirst(10).map { finding($0, severity: .critical) }, at: hours(1)) { _ in nil }
        var compacted = tracker.compacted()
        #expect(compacted.active == tracker.active && compacted.active.count == 40)
        let origin = compacted.active.values.first!.origin
        for (key, alert) in tracker.active {
            let copy = compacted.active[key]!
            #expect(copy.labels.storage != alert.labels.storage)
            #expect(copy.labels.dictionary == alert.labels.dictionary && copy.subjectID == alert.subjectID)
            // One origin for the rule's alerts.
            #expect(copy.origin === origin && alert.origin === origin)
        }
        let next = subjects.dropFirst(20).map { finding($0, severity: .critical) }
        let fromOriginal = tracker.apply(scope: "demo", findings: next, at: hours(30)) { _ in nil }
        let fromCompacted = compacted.apply(scope: "demo", findings: next, at: hours(30)) { _ in nil }
        #expect(fromCompacted.changed == fromOriginal.changed && fromCompacted.notifications == fromOriginal.notifications)
        #expect(fromCompacted.transitions.count == fromOriginal.transitions.count && compacted.active == tracker.active)
    }

    /// The tracker lets go of its alerts before the daemon gives memory back, and copies them
    /// after (issue 21: copies made beside the old alerts went into the holes around them, and a
    /// daemon held up to 449 MiB for 100 MiB in use).
    @Test func compactionFreesTheAlertsBeforeItCopiesThem() {
        var tracker = AlertTracker()
        let subjects = (0..<50).map { "Thôn số \($0) của xã Đại Chánh" }
        _ = tracker.apply(scope: "demo", findings: subjects.map { finding($0) }, at: t0) { _ in nil }
        _ = tracker.apply(scope: "demo", findings: subjects.dropFirst(10).map { finding($0, severity: .critical) }, at: hours(1)) { _ in nil }
        let before = tracker.active.values.map { $0.alert(over: nil) }.sorted { $0.fingerprint < $1.fingerprint }
        weak var old = tracker.active.values.first?.boxObject
        var released = 0
        tracker.compact {
            released += 1
            #expect(old == nil)
        }
        #expect(released == 1 && before.count == 40)
        #expect(tracker.active.values.map { $0.alert(over: nil) }.sorted { $0.fingerprint < $1.fingerprint } == before)
        #expect(tracker.active.values.allSatisfy { $0.origin === tracker.active.values.first!.origin })
    }

    /// The tracker keys an alert by the 64 bits of its fingerprint (issue 21: a 16-byte String
    /// is an allocation per open alert): keys give their fingerprints back and order as they do.
    @Test func alertKeysAreTheirFingerprints() {
        let fingerprints = ["cbf29ce484222325", "0000000000000000", "ffffffffffffffff", "0c44e9d9f3437933", "fp1",
                            "CBF29CE484222325", "cbf29ce48422232", "g000000000000000", "cbf29ce4842223250"]
        for fingerprint in fingerprints { #expect(AlertKey(fingerprint).fingerprint == fingerprint) }
        #expect(fingerprints.map(AlertKey.init).sorted().map(\.fingerprint) == fingerprints.sorted())
        #expect(AlertKey("cbf29ce484222325") == .hash(0xcbf2_9ce4_8422_2325))
        // Only what Fingerprint.of makes is a number: upper-case digits would come back lower-case.
        #expect(AlertKey("CBF29CE484222325") == .text("CBF29CE484222325"))
    }

    @Test func fingerprintsAreAlertmanagersAndIndependentOfLabelOrder() {
        // FNV-1a 64 of nothing is its offset basis, as in Prometheus' model.LabelSet.Fingerprint.
        #expect(Fingerprint.of([:]) == "cbf29ce484222325")
        let a = Fingerprint.of(["rule": "demo.late", "subject_id": "A", "check": "demo"])
        let b = Fingerprint.of(["check": "demo", "subject_id": "A", "rule": "demo.late"])
        #expect(a == b)
        #expect(a != Fingerprint.of(["check": "demo", "subject_id": "B", "rule": "demo.late"]))
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        #expect(Fingerprint.of(["ab": "c"]) != Fingerprint.of(["a": "bc"]))
        // FNV-1a over each name and value's UTF-8 followed by 0xff, worked out apart (Python):
        // small strings, and a long Vietnamese one the hash reads from its own buffer.
        #expect(a == "4eabe40103b8921c")
        #expect(Fingerprint.of(["commune": "xã Đông Hòa, một tên dài hơn mười lăm byte", "alertname": "debt.settlement_overdue",
                                "province": "49"]) == "d4fad1efac95ac69")
    }

    /// A steady cycle finds most alerts again unchanged: the tracker tells so from a finding's
    /// key, severity and content hash, and makes its labelled finding only for an alert that is
    /// new or changed (issue 21).
    @Test func theLabelledFindingIsMadeOnlyForAnAlertThatChanged() {
        final class Made: @unchecked Sendable { var count = 0 }
        struct Lazy: TrackableFinding {
            let whole: LabeledFinding
            let made: Made
            var key: AlertKey { AlertKey(whole.fingerprint) }
            var severity: Severity { whole.severity }
            var pendingFor: Duration { whole.pendingFor }
            var contentHash: Int { whole.contentHash }
            func labeled() -> LabeledFinding { made.count += 1; return whole }
        }
        let made = Made()
        func found(_ subject: String, days: Int64, severity: Severity = .warning) -> Lazy {
            var whole = finding(subject, severity: severity)
            whole.finding.values = ["days_late": .integer(days)]
            return Lazy(whole: whole, made: made)
        }
        var tracker = AlertTracker()
        var recorded: [String: Alert] = [:]
        func apply(_ findings: [Lazy], at instant: Date) -> AlertTracker.Step {
            let step = tracker.apply(scope: "demo", findings: findings, at: instant) { recorded[$0] }
            for alert in step.changed { recorded[alert.fingerprint] = alert }
            return step
        }
        #expect(apply([found("A", days: 3), found("B", days: 3)], at: t0).changed.count == 2)
        #expect(made.count == 2)
        #expect(apply([found("A", days: 3), found("B", days: 3)], at: hours(1)).changed.isEmpty)
        #expect(made.count == 2)
        let moved = apply([found("A", days: 4), found("B", days: 3, severity: .critical)], at: hours(2))
        #expect(made.count == 4)
        #expect(moved.changed.map(\.values["days_late"]) == [.integer(4), .integer(3)])
        #expect(moved.notifications.map(\.reason) == [.severityChanged])
        // Due again (a warning repeats after a day): made to be notified, its content unchanged.
        #expect(apply([found("A", days: 4), found("B", days: 3, severity: .critical)], at: hours(26)).notifications.map(\.reason)
                    == [.repeated, .repeated])
        #expect(made.count == 6)
    }
}

/// The tracker's compact labels (issue 21) give back every label as it was given.
@Suite struct TrackedLabelsTests {
    @Test func labelsReadBackWhole() throws {
        var generator = SystemRandomNumberGenerator()
        var messages = MessageTable()
        for _ in 0..<200 {
            var labels: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                // The labeller's own labels share their values in the labels' shape; others are each alert's own.
                let name = Bool.random(using: &generator) ? ["alertname", "rule", "check", "instance", "subject_kind", "severity"].randomElement()!
                    : String((0..<Int.random(in: 1...20, using: &generator)).map { _ in "abcđxyz_".randomElement()! })
                let length = [0, 1, 15, 127, 128, 300, 20_000].randomElement(using: &generator)!
                labels[name] = String((0..<length).map { _ in "aăâđêôơư \u{0}\"=".randomElement()! })
            }
            let alert = Alert(fingerprint: Fingerprint.of(labels), scope: "demo", check: "demo", ruleID: "demo.late", messageID: "m",
                              labels: labels, subject: Subject(kind: "unit", id: "A", name: "A"), severity: .warning, status: .firing,
                              activeSince: Date(timeIntervalSince1970: 0), values: [:], message: .rendered(LocalizedText(vi: "", en: "")))
            let tracked = TrackedAlert(alert)
            #expect(tracked.labels.dictionary == labels)
            #expect(try AlertCodec.tracked(AlertCodec.pack(alert, messages: &messages), messages: messages).labels == tracked.labels)
            for (name, value) in labels { #expect(tracked.labels[name] == value) }
            #expect(tracked.labels["absent-name"] == nil)
            #expect(tracked.notificationLabel("severity") == "warning")
        }
    }

    /// The alerts of one rule keep one shape (their names and the labeller's values) and only
    /// their own values apart (issue 21: nine labels of names and values were 224 bytes of each of
    /// 340,000 open alerts), whether made from findings, read from the state, or compacted.
    @Test func alertsOfARuleShareOneShape() throws {
        var origins = OriginTable(), messages = MessageTable()
        let alerts = (0..<100).map { Self.debtAlert($0) }
        let made = alerts.map { TrackedAlert($0, origins: &origins) }
        let shape = made[0].labels.shape
        #expect(made.allSatisfy { $0.labels.shape === shape })
        // Only the unit's, the subject's and the province's values are each alert's own.
        #expect(shape.entries.filter { $0.value == nil }.map(\.name) == ["commune", "province", "subject_id"])
        #expect(shape.entries.compactMap(\.value) == ["debt.new_debt", "debt", "Sở NN&PTNT", "debt.new_debt", "project"])
        var read = OriginTable()
        let fromState = try alerts.map { alert in
            let packed = AlertCodec.pack(alert, messages: &messages)
            return try packed.withUnsafeBufferPointer { try AlertCodec.tracked($0, origins: &read, messages: messages) }
        }
        #expect(fromState == made && fromState.allSatisfy { $0.labels.shape === fromState[0].labels.shape })
        let tracker = AlertTracker(active: fromState)
        let compacted = tracker.compacted()
        #expect(compacted.active == tracker.active)
        #expect(Set(compacted.active.values.map { ObjectIdentifier($0.labels.shape) }).count == 1)
        for (index, alert) in made.enumerated() {
            #expect(alert.labels["commune"] == "C\(index)" && alert.labels["instance"] == "Sở NN&PTNT" && alert.subjectID == "C\(index)-P1")
        }
    }

    static func debtAlert(_ index: Int, commune: Bool = true) -> Alert {
        var labels = ["alertname": "debt.new_debt", "rule": "debt.new_debt", "check": "debt", "instance": "Sở NN&PTNT",
                      "subject_kind": "project", "subject_id": "C\(index)-P1", "commune": "C\(index)", "province": "P"]
        if !commune { labels["commune"] = nil }
        return Alert(fingerprint: String(format: "%016x", index), scope: "debt", check: "debt", ruleID: "debt.new_debt", messageID: "m",
                     labels: labels, subject: Subject(kind: "project", id: "C\(index)-P1", name: "Công trình"), severity: .warning,
                     status: .firing, activeSince: Date(timeIntervalSince1970: 0), values: [:],
                     message: .rendered(LocalizedText(vi: "", en: "")))
    }

    /// A shape is found again by its key, not only right after itself; alerts made through two
    /// tables share one shape once in a tracker, and still after it is compacted.
    @Test func equalShapesAreOneObject() throws {
        var origins = OriginTable(), other = OriginTable()
        let a = TrackedAlert(Self.debtAlert(0), origins: &origins)
        let b = TrackedAlert(Self.debtAlert(1, commune: false), origins: &origins)
        let c = TrackedAlert(Self.debtAlert(2), origins: &origins)
        #expect(a.labels.shape !== b.labels.shape && c.labels.shape === a.labels.shape)
        let d = TrackedAlert(Self.debtAlert(3), origins: &other)
        #expect(d.labels.shape !== a.labels.shape && d.labels.shape == a.labels.shape)
        var tracker = AlertTracker(active: [a, b, d])
        #expect(tracker.active[d.key]?.labels.shape === tracker.active[a.key]?.labels.shape)
        tracker.compact {}
        #expect(tracker.active[d.key]?.labels.shape === tracker.active[a.key]?.labels.shape)
        #expect(tracker.active[b.key]?.labels.shape !== tracker.active[a.key]?.labels.shape)
        #expect(tracker.active[d.key]?.labels["commune"] == "C3" && tracker.active[b.key]?.labels["commune"] == nil)
    }

    /// A shared value is kept in its own bytes too: two spellings of one instance name are two shapes.
    @Test func sharedValuesKeepTheirBytes() {
        let composed = "Trà Vinh", decomposed = "Tra\u{0300} Vinh"
        var origins = OriginTable()
        let tracked = [composed, decomposed].map { instance in
            TrackedAlert(Alert(fingerprint: "f", scope: "s", check: "c", ruleID: "r", messageID: "m", labels: ["instance": instance, "unit": instance],
                               subject: Subject(kind: "unit", id: "A", name: "A"), severity: .warning, status: .firing,
                               activeSince: Date(timeIntervalSince1970: 0), values: [:], message: .rendered(LocalizedText(vi: "", en: ""))),
                         origins: &origins)
        }
        #expect(tracked[0].labels.shape !== tracked[1].labels.shape && tracked[0].labels != tracked[1].labels)
        #expect(tracked.map { Array($0.labels["instance"]!.utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
        #expect(tracked.map { Array($0.labels["unit"]!.utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
    }

    /// A tracked alert is one allocation: its own label values follow its fields in the box, and
    /// the fields stay nine words (issue 21: the values in an array of their own, an optional
    /// subject id, a text key and a muting beside the fields were 64 to 96 bytes more an alert).
    @Test func aTrackedAlertIsOneSmallAllocation() {
        #expect(TrackedAlert.fieldsSize <= 72)
        var origins = OriginTable()
        let alert = TrackedAlert(Self.debtAlert(7), origins: &origins)
        let box = UnsafeRawPointer(Unmanaged.passUnretained(alert.boxObject).toOpaque())
        let offset = alert.labels.storage.map { $0 - box }
        #expect(offset.map { (16 + TrackedAlert.fieldsSize)..<(16 + TrackedAlert.fieldsSize + 8) ~= $0 } == true)
        // A copy that changes gets a box of its own, its values with it.
        var changed = alert
        changed.severity = .critical
        #expect(changed.boxObject !== alert.boxObject && changed.labels == alert.labels && alert.severity == .warning)
        #expect(changed.labels.storage != alert.labels.storage && changed.labels["commune"] == "C7")
    }

    /// What almost no alert has is kept apart, and kept whole: a text fingerprint, a subject the
    /// `subject_id` label is not, silences and an inhibition.
    @Test func rareFieldsSurviveChangesAndCompaction() {
        var alert = Self.debtAlert(3)
        alert.fingerprint = "không-phải-số-hex-0123456789"
        alert.subject = Subject(kind: "project", id: "một chủ thể khác hẳn nhãn", name: "x")
        var tracked = TrackedAlert(alert)
        #expect(tracked.key == .text(alert.fingerprint) && tracked.subjectID == alert.subject.id)
        tracked.silencedBy = ["s1"]
        tracked.inhibitedBy = "0000000000000001"
        tracked.silencedBy = ["s1", "s2"]
        #expect(tracked.inhibitedBy == "0000000000000001" && tracked.silencedBy == ["s1", "s2"])
        #expect(tracked.key == .text(alert.fingerprint) && tracked.subjectID == alert.subject.id)
        let compacted = AlertTracker(active: [tracked]).compacted()
        let copy = compacted.active[tracked.key]
        #expect(copy == tracked && copy?.subjectID == alert.subject.id)
        #expect(copy?.inhibitedBy == "0000000000000001" && copy?.silencedBy == ["s1", "s2"])
        tracked.silencedBy = nil
        #expect(tracked.silencedBy == nil && tracked.inhibitedBy == "0000000000000001" && copy?.silencedBy == ["s1", "s2"])
        let plain = TrackedAlert(Self.debtAlert(4))
        #expect(plain.key == .hash(4) && plain.subjectID == "C4-P1" && plain.silencedBy == nil && plain.inhibitedBy == nil)
        // A subject id spelled otherwise than its label (decomposed against composed) keeps its bytes.
        var spelled = Self.debtAlert(5)
        spelled.labels["subject_id"] = "Thôn Đông"
        spelled.subject = Subject(kind: "unit", id: "Tho\u{0302}n Đông", name: "x")
        #expect(Array(TrackedAlert(spelled).subjectID.utf8) == Array("Tho\u{0302}n Đông".utf8))
    }
}
