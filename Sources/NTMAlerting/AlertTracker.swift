import CheckKit
import Foundation

/// The alert lifecycle, as a pure state machine: given the findings of one successful run of a
/// check, it updates that check's alerts and says which notifications are due. It never reads
/// the clock and does no I/O, so it is tested directly.
///
/// It keeps each open alert's lifecycle, not its content (``TrackedAlert``). Where a step needs
/// an alert whole that no finding brings (one that resolves, one whose muting changes), it asks
/// `stored`: the alert as last recorded, which the daemon reads from the state file. Every step
/// is recorded before the next one, so what is stored is what the tracker last made.
public struct AlertTracker: Sendable {
    /// The alert as last recorded, by fingerprint.
    public typealias Stored = (_ fingerprint: String) throws -> Alert?

    /// Pending and firing alerts, by fingerprint.
    public internal(set) var active: [AlertKey: TrackedAlert]
    public var repeatInterval: [Severity: Duration]
    /// What the alerts share, kept once (see ``TrackedAlert/Origin`` and ``TrackedAlert/Labels``).
    var origins = OriginTable()

    public static let defaultRepeatInterval: [Severity: Duration] = [
        .critical: .seconds(4 * 3600), .error: .seconds(12 * 3600), .warning: .seconds(24 * 3600),
        .notice: .seconds(72 * 3600), .info: .seconds(168 * 3600),
    ]

    public init(active: [TrackedAlert] = [], repeatInterval: [Severity: Duration] = AlertTracker.defaultRepeatInterval) {
        var origins = OriginTable()
        self.active = Dictionary(active.map { ($0.key, $0.sharing(&origins)) }, uniquingKeysWith: { a, _ in a })
        self.origins = origins
        self.repeatInterval = repeatInterval
    }

    /// The open alert of `fingerprint`, if any.
    public subscript(fingerprint fingerprint: String) -> TrackedAlert? { active[AlertKey(fingerprint)] }

    /// Moves each open alert into fresh allocations of the size it needs; the origins and label
    /// shapes the alerts share stay as they are, one per kind of alert. A run that makes tens of
    /// thousands of alerts (a national first cycle) makes them among its reads and findings, and
    /// when those are freed each alert still holds a page of mostly free memory that the
    /// allocator cannot give back.
    ///
    /// Copied while the old alerts were still allocated, the copies went where glibc's free lists
    /// had room, often the holes beside the old ones: a minute after the large first cycle four
    /// daemons each had 100 MiB in use, but 171 to 449 MiB resident, with 8,000 to 267,000 free
    /// chunks between live ones (issue 21). So the alerts are first parked in two large arrays and
    /// the tracker lets go of them; `release` runs when none of them is allocated (the daemon gives
    /// freed memory back there, which also joins the free chunks), and the copies are then made one
    /// after another from the free memory as one piece.
    public mutating func compact(between release: () -> Void) {
        var own: [UInt8] = []
        var parked = ContiguousArray<TrackedAlert.Parked>()
        do {
            let alerts = active
            active = [:]
            origins = OriginTable()
            parked.reserveCapacity(alerts.count)
            for alert in alerts.values { parked.append(alert.parked(into: &own)) }
        }
        release()
        var origins = OriginTable()
        var active = [AlertKey: TrackedAlert](minimumCapacity: parked.count)
        own.withUnsafeBufferPointer { own in
            for alert in parked {
                let alert = TrackedAlert(unparking: alert, own: own, origins: &origins)
                active[alert.key] = alert
            }
        }
        self.active = active
        self.origins = origins
    }

    /// The outcome of one step: notifications to send and every alert whose record changed
    /// (to persist, including alerts that resolved or were dropped while pending).
    public struct Step: Sendable {
        public var notifications: [Notification] = []
        public var changed: [Alert] = []
        public var dropped: [String] = []
        /// What happened to each alert, for the append-only history.
        public var transitions: [Transition] = []
        /// Each open alert the step changed, as it was before: muting may take back all of it.
        var previous: [AlertKey: TrackedAlert] = [:]
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
    public mutating func apply<Findings: Sequence>(scope: String, findings: Findings, at instant: Date, stored: Stored) rethrows -> Step
    where Findings.Element: TrackableFinding {
        var step = Step()
        var seen = Set<AlertKey>()
        for found in findings {
            let key = found.key
            guard seen.insert(key).inserted else { continue }
            let existing = active[key]
            let content = found.contentHash
            // Most alerts of a steady cycle are found again unchanged: nothing is made, compared
            // whole or written for them, not even the finding's labels.
            if let existing, existing.severity == found.severity, existing.content == content,
               !isDue(existing, pendingFor: found.pendingFor, at: instant) { continue }
            let labeled = found.labeled()
            let fingerprint = labeled.fingerprint
            assert(AlertKey(fingerprint) == key && labeled.severity == found.severity && labeled.pendingFor == found.pendingFor
                   && labeled.contentHash == content, "a TrackableFinding that is not its labelled finding")
            var alert = Alert(
                fingerprint: fingerprint, scope: existing?.scope ?? scope, check: existing?.check ?? labeled.check,
                ruleID: existing?.ruleID ?? labeled.finding.ruleID, messageID: existing?.messageID ?? labeled.messageID,
                labels: labeled.labels, subject: labeled.finding.subject, severity: labeled.severity,
                status: existing?.status ?? .pending, activeSince: existing?.activeSince ?? instant, firingSince: existing?.firingSince,
                lastNotifiedAt: existing?.lastNotifiedAt, lastNotifiedSeverity: existing?.lastNotifiedSeverity,
                values: labeled.finding.values, message: .template(labeled.finding.template), silencedBy: existing?.silencedBy,
                inhibitedBy: existing?.inhibitedBy, source: labeled.source)
            if alert.status == .pending, instant.timeIntervalSince(alert.activeSince) >= labeled.pendingFor.seconds {
                alert.status = .firing
                alert.firingSince = instant
            }
            if alert.status == .firing, let reason = notificationReason(alert.lastNotifiedAt, alert.lastNotifiedSeverity,
                                                                        severity: alert.severity, at: instant) {
                alert.lastNotifiedAt = instant
                alert.lastNotifiedSeverity = alert.severity
                step.notifications.append(Notification(
                    id: "\(fingerprint)-\(Int(instant.timeIntervalSince1970))-\(reason.rawValue)",
                    reason: reason, at: instant, alert: alert))
            }
            let tracked = TrackedAlert(alert, content: content, origins: &origins)
            active[key] = tracked
            if tracked != existing {
                step.changed.append(alert)
                if let existing, step.previous[key] == nil { step.previous[key] = existing }
            }
            if existing == nil || alert.status != existing?.status || alert.severity != existing?.severity {
                step.transitions.append(Transition(
                    fingerprint: fingerprint, at: instant, from: existing?.status, to: alert.status,
                    severity: alert.severity, ruleID: alert.ruleID, subjectID: alert.subject.id, silencedBy: tracked.muteText))
            }
        }
        // Filter before sorting: a cycle applies many scopes, each owning a small share of the alerts.
        let gone = active.compactMap { $0.value.scope == scope && !seen.contains($0.key) ? $0.key : nil }.sorted()
        for key in gone { step.merge(try resolve(key, at: instant, stored: stored)) }
        return step
    }

    /// Resolves every alert of scopes that no longer exist (a check removed from the configuration).
    public mutating func retire(keeping scopes: Set<String>, at instant: Date, stored: Stored) rethrows -> Step {
        var step = Step()
        let gone = active.compactMap { scopes.contains($0.value.scope) ? nil : $0.key }.sorted()
        for key in gone { step.merge(try resolve(key, at: instant, stored: stored)) }
        return step
    }

    private mutating func resolve(_ key: AlertKey, at instant: Date, stored: Stored) rethrows -> Step {
        var step = Step()
        guard let tracked = active.removeValue(forKey: key) else { return step }
        let fingerprint = key.fingerprint
        if tracked.status == .pending {
            step.dropped.append(fingerprint)
            step.transitions.append(Transition(fingerprint: fingerprint, at: instant, from: .pending, to: nil,
                                               severity: tracked.severity, ruleID: tracked.ruleID, subjectID: tracked.subjectID))
            return step
        }
        step.transitions.append(Transition(fingerprint: fingerprint, at: instant, from: tracked.status, to: .resolved,
                                           severity: tracked.severity, ruleID: tracked.ruleID, subjectID: tracked.subjectID,
                                           silencedBy: tracked.muteText))
        var alert = tracked.alert(over: try stored(fingerprint))
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
    private func isDue(_ alert: TrackedAlert, pendingFor: Duration, at instant: Date) -> Bool {
        switch alert.status {
        case .pending: instant.timeIntervalSince(alert.activeSince) >= pendingFor.seconds
        case .firing: notificationReason(alert.lastNotifiedAt, alert.lastNotifiedSeverity, severity: alert.severity, at: instant) != nil
        case .resolved: true
        }
    }

    private func notificationReason(_ last: Date?, _ lastSeverity: Severity?, severity: Severity, at instant: Date) -> Notification.Reason? {
        guard let last else { return .firing }
        if lastSeverity != severity { return .severityChanged }
        let wait = repeatInterval[severity] ?? Self.defaultRepeatInterval[severity]!
        return instant.timeIntervalSince(last) >= wait.seconds ? .repeated : nil
    }
}

extension AlertTracker.Step {
    public mutating func merge(_ other: AlertTracker.Step) {
        notifications += other.notifications
        changed += other.changed
        dropped += other.dropped
        transitions += other.transitions
        previous.merge(other.previous) { first, _ in first }
    }
}

extension Duration {
    public var seconds: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}
