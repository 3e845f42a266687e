import CheckKit
import Foundation

/// The alert lifecycle, as a pure state machine: given the findings of one successful run of a
/// check, it updates that check's alerts and says which notifications are due. It never reads
/// the clock and does no I/O, so it is tested directly.
public struct AlertTracker: Sendable {
    /// Pending and firing alerts, by fingerprint.
    public private(set) var active: [String: Alert]
    public var repeatInterval: [Severity: Duration]

    public init(active: [Alert] = [], repeatInterval: [Severity: Duration] = Configuration.defaultRepeatInterval) {
        self.active = Dictionary(active.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        self.repeatInterval = repeatInterval
    }

    /// The outcome of one step: notifications to send and every alert whose record changed
    /// (to persist, including alerts that resolved or were dropped while pending).
    public struct Step: Sendable {
        public var notifications: [Notification] = []
        public var changed: [Alert] = []
        public var dropped: [String] = []
    }

    /// Applies the findings of one run in `scope` at `instant`. Alerts of the scope that are not
    /// among the findings resolve (firing) or are dropped (pending).
    public mutating func apply(scope: String, findings: [LabeledFinding], at instant: Date) -> Step {
        var step = Step()
        var seen = Set<String>()
        for labeled in findings {
            let fingerprint = labeled.fingerprint
            guard seen.insert(fingerprint).inserted else { continue }
            let isNew = active[fingerprint] == nil
            var alert = active[fingerprint] ?? Alert(
                fingerprint: fingerprint, scope: scope, check: labeled.check, ruleID: labeled.finding.ruleID, messageID: labeled.messageID,
                labels: labeled.labels, subject: labeled.finding.subject, severity: labeled.severity, status: .pending,
                activeSince: instant, firingSince: nil, resolvedAt: nil, lastNotifiedAt: nil, lastNotifiedSeverity: nil,
                values: labeled.finding.values, summary: labeled.finding.summary)
            let before = alert
            alert.severity = labeled.severity
            alert.values = labeled.finding.values
            alert.summary = labeled.finding.summary
            alert.subject = labeled.finding.subject
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
        }
        for (fingerprint, alert) in active.sorted(by: { $0.key < $1.key }) where alert.scope == scope && !seen.contains(fingerprint) {
            step.merge(resolve(fingerprint, at: instant))
        }
        return step
    }

    /// Resolves every alert of scopes that no longer exist (a check removed from the configuration).
    public mutating func retire(keeping scopes: Set<String>, at instant: Date) -> Step {
        var step = Step()
        for (fingerprint, alert) in active.sorted(by: { $0.key < $1.key }) where !scopes.contains(alert.scope) {
            step.merge(resolve(fingerprint, at: instant))
        }
        return step
    }

    private mutating func resolve(_ fingerprint: String, at instant: Date) -> Step {
        var step = Step()
        guard var alert = active.removeValue(forKey: fingerprint) else { return step }
        if alert.status == .pending {
            step.dropped.append(fingerprint)
            return step
        }
        alert.status = .resolved
        alert.resolvedAt = instant
        alert.lastNotifiedAt = instant
        step.notifications.append(Notification(
            id: "\(fingerprint)-\(Int(instant.timeIntervalSince1970))-resolved", reason: .resolved, at: instant, alert: alert))
        step.changed.append(alert)
        return step
    }

    private func notificationReason(_ alert: Alert, at instant: Date) -> Notification.Reason? {
        guard let last = alert.lastNotifiedAt else { return .firing }
        if alert.lastNotifiedSeverity != alert.severity { return .severityChanged }
        let wait = repeatInterval[alert.severity] ?? Configuration.defaultRepeatInterval[alert.severity]!
        return instant.timeIntervalSince(last) >= wait.seconds ? .repeated : nil
    }
}

extension AlertTracker.Step {
    mutating func merge(_ other: AlertTracker.Step) {
        notifications += other.notifications
        changed += other.changed
        dropped += other.dropped
    }
}

extension Duration {
    var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
