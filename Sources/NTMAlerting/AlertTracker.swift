import CheckKit
import Foundation

/// The alert lifecycle, as a pure state machine: given the findings of one successful run of a
/// check, it updates that check's alerts and says which notifications are due. It never reads
/// the clock and does no I/O, so it is tested directly.
public struct AlertTracker: Sendable {
    /// Pending and firing alerts, by fingerprint.
    public internal(set) var active: [String: Alert]
    public var repeatInterval: [Severity: Duration]

    public static let defaultRepeatInterval: [Severity: Duration] = [
        .critical: .seconds(4 * 3600), .error: .seconds(12 * 3600), .warning: .seconds(24 * 3600),
        .notice: .seconds(72 * 3600), .info: .seconds(168 * 3600),
    ]

    public init(active: [Alert] = [], repeatInterval: [Severity: Duration] = AlertTracker.defaultRepeatInterval) {
        self.active = Dictionary(active.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        self.repeatInterval = repeatInterval
    }

    /// The outcome of one step: notifications to send and every alert whose record changed
    /// (to persist, including alerts that resolved or were dropped while pending).
    public struct Step: Sendable {
        public var notifications: [Notification] = []
        public var changed: [Alert] = []
        public var dropped: [String] = []
        /// What happened to each alert, for the append-only history.
        public var transitions: [Transition] = []
        public init() {}
    }

    /// One change of an alert's status or severity. `to == nil` is a pending alert dropped
    /// before it fired.
    public struct Transition: Sendable, Hashable, Codable {
        public var fingerprint: String
        public var at: Date
        public var from: Alert.Status?
        public var to: Alert.Status?
        public var severity: Severity
        public var ruleID: String
        public var subjectID: String
        /// What mutes the alert from this transition on: silence ids, or `inhibited:` and the
        /// inhibiting alert's fingerprint; nil when nothing does.
        public var silencedBy: String?

        public init(fingerprint: String, at: Date, from: Alert.Status?, to: Alert.Status?, severity: Severity, ruleID: String,
                    subjectID: String, silencedBy: String? = nil) {
            self.silencedBy = silencedBy
            self.fingerprint = fingerprint
            self.at = at
            self.from = from
            self.to = to
            self.severity = severity
            self.ruleID = ruleID
            self.subjectID = subjectID
        }
    }

    /// Applies the findings of one run in `scope` at `instant`. Alerts of the scope that are not
    /// among the findings resolve (firing) or are dropped (pending).
    public mutating func apply(scope: String, findings: [LabeledFinding], at instant: Date) -> Step {
        var step = Step()
        var seen = Set<String>()
        for labeled in findings {
            let fingerprint = labeled.fingerprint
            guard seen.insert(fingerprint).inserted else { continue }
            let existing = active[fingerprint]
            // Most alerts of a steady cycle are found again unchanged: they keep their stored
            // value (and its memory), with no copy, no comparison of the whole alert, no write.
            if let existing, existing.isUnchanged(by: labeled), !isDue(existing, pendingFor: labeled.pendingFor, at: instant) { continue }
            let isNew = existing == nil
            var alert = existing ?? Alert(
                fingerprint: fingerprint, scope: scope, check: labeled.check, ruleID: labeled.finding.ruleID, messageID: labeled.messageID,
                labels: labeled.labels, subject: labeled.finding.subject, severity: labeled.severity, status: .pending,
                activeSince: instant, firingSince: nil, resolvedAt: nil, lastNotifiedAt: nil, lastNotifiedSeverity: nil,
                values: labeled.finding.values, summary: labeled.finding.summary)
            let before = alert
            alert.severity = labeled.severity
            alert.values = labeled.finding.values
            alert.summary = labeled.finding.summary
            alert.subject = labeled.finding.subject
            alert.source = labeled.source
            if alert.status == .pending, instant.timeIntervalSince(alert.activeSince) >= labeled.pendingFor.seconds {
                alert.status = .firing
                alert.firingSince = instant
            }
            if alert.status == .firing, let reason = notificationReason(alert, at: instant) {
                alert.lastNotifiedAt = instant
                alert.lastNotifiedSeverity = alert.severity
                step.notifications.append(Notification(
                    id: "\(fingerprint)-\(Int(instant.timeIntervalSince1970))-\(reason.rawValue)",
                    reason: reason, at: instant, alert: alert))
            }
            active[fingerprint] = alert
            if isNew || alert != before { step.changed.append(alert) }
            if isNew || alert.status != before.status || alert.severity != before.severity {
                step.transitions.append(Transition(
                    fingerprint: fingerprint, at: instant, from: isNew ? nil : before.status, to: alert.status,
                    severity: alert.severity, ruleID: alert.ruleID, subjectID: alert.subject.id, silencedBy: alert.muteText))
            }
        }
        // Filter before sorting: a cycle applies many scopes, each owning a small share of the alerts.
        let gone = active.compactMap { $0.value.scope == scope && !seen.contains($0.key) ? $0.key : nil }.sorted()
        for fingerprint in gone { step.merge(resolve(fingerprint, at: instant)) }
        return step
    }

    /// Resolves every alert of scopes that no longer exist (a check removed from the configuration).
    public mutating func retire(keeping scopes: Set<String>, at instant: Date) -> Step {
        var step = Step()
        let gone = active.compactMap { scopes.contains($0.value.scope) ? nil : $0.key }.sorted()
        for fingerprint in gone { step.merge(resolve(fingerprint, at: instant)) }
        return step
    }

    private mutating func resolve(_ fingerprint: String, at instant: Date) -> Step {
        var step = Step()
        guard var alert = active.removeValue(forKey: fingerprint) else { return step }
        if alert.status == .pending {
            step.dropped.append(fingerprint)
            step.transitions.append(Transition(fingerprint: fingerprint, at: instant, from: .pending, to: nil,
                                               severity: alert.severity, ruleID: alert.ruleID, subjectID: alert.subject.id))
            return step
        }
        step.transitions.append(Transition(fingerprint: fingerprint, at: instant, from: alert.status, to: .resolved,
                                           severity: alert.severity, ruleID: alert.ruleID, subjectID: alert.subject.id,
                                           silencedBy: alert.muteText))
        // A muted alert's firing was not told (a silence or inhibition resets `lastNotifiedAt`), so
        // neither is its resolution.
        let wasNotified = alert.lastNotifiedAt != nil
        alert.status = .resolved
        alert.resolvedAt = instant
        if wasNotified {
            alert.lastNotifiedAt = instant
            step.notifications.append(Notification(
                id: "\(fingerprint)-\(Int(instant.timeIntervalSince1970))-resolved", reason: .resolved, at: instant, alert: alert))
        }
        step.changed.append(alert)
        return step
    }

    /// Whether `alert` moves on at `instant` though its finding is the same: a pending alert whose
    /// `for` has passed fires, a firing one may be due a notification.
    private func isDue(_ alert: Alert, pendingFor: Duration, at instant: Date) -> Bool {
        switch alert.status {
        case .pending: instant.timeIntervalSince(alert.activeSince) >= pendingFor.seconds
        case .firing: notificationReason(alert, at: instant) != nil
        case .resolved: true
        }
    }

    private func notificationReason(_ alert: Alert, at instant: Date) -> Notification.Reason? {
        guard let last = alert.lastNotifiedAt else { return .firing }
        if alert.lastNotifiedSeverity != alert.severity { return .severityChanged }
        let wait = repeatInterval[alert.severity] ?? Self.defaultRepeatInterval[alert.severity]!
        return instant.timeIntervalSince(last) >= wait.seconds ? .repeated : nil
    }
}

extension AlertTracker.Step {
    public mutating func merge(_ other: AlertTracker.Step) {
        notifications += other.notifications
        changed += other.changed
        dropped += other.dropped
        transitions += other.transitions
    }
}

extension Duration {
    public var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

extension Alert {
    /// True when applying `labeled` would change none of the alert's fields (see ``AlertTracker/apply(scope:findings:at:)``).
    func isUnchanged(by labeled: LabeledFinding) -> Bool {
        severity == labeled.severity && source == labeled.source && subject == labeled.finding.subject
            && summary == labeled.finding.summary && values == labeled.finding.values
    }
}
