import Foundation

/// What mutes alerts at one instant: the active silences and the inhibit rules.
public struct Muting: Sendable {
    public var silences: [Silence]
    public var inhibitor: Inhibitor

    public init(silences: [Silence], inhibitRules: [InhibitRule]) {
        self.silences = silences
        self.inhibitor = Inhibitor(rules: inhibitRules)
    }
}

extension AlertTracker {
    /// Applies silences and inhibition to every tracked alert after a step, before it is
    /// recorded: a muted alert's notifications leave the step (so the ledger never gets rows for
    /// them, for any receiver) and its `lastNotifiedAt` is cleared, so that once nothing mutes it
    /// and it still fires, the next run notifies it as firing. A change of what mutes an alert
    /// is a transition in the history. Only the alerts of `scopes` (the runs just applied) are
    /// reconsidered: an alert's muting changes when its check runs, as its state does, and a
    /// daemon started for a backfill does not flip every alert at the wall clock's instant.
    /// Any firing alert can inhibit.
    public mutating func mute(_ step: inout Step, scopes: Set<String>, with muting: Muting, at instant: Date, stored: Stored) rethrows {
        // Alerts whose muting changes are few; each is looked at here in the table's own order
        // and only those are then handled in key order, the order of the step's changes: sorting
        // all 70,000 open national alerts' keys, and copying each, was most of a steady cycle's
        // muting (issue 21).
        // Nothing open in the scopes (every delivery records its usually empty `meta:delivery`
        // step), nothing to mute: the firing alerts that could inhibit are not indexed.
        guard active.values.contains(where: { scopes.contains($0.scope) }) else { return }
        let inhibitors = muting.inhibitor.sources(among: active.values.lazy.filter { $0.status == .firing })
        var muted = Set<AlertKey>()
        var changing: [(key: AlertKey, silencedBy: [String]?, inhibitedBy: String?)] = []
        for index in active.indices where scopes.contains(active.values[index].scope) {
            let alert = active.values[index]
            let silences = muting.silences.isEmpty ? [] : muting.silences.filter { $0.mutes(alert.notificationLabel, at: instant) }.map(\.id).sorted()
            let silencedBy = silences.isEmpty ? nil : silences
            let inhibitedBy = inhibitors.inhibitor(of: alert)
            let isMuted = silencedBy != nil || inhibitedBy != nil
            if isMuted { muted.insert(active.keys[index]) }
            // Nothing changes for most alerts.
            if silencedBy == alert.silencedBy, inhibitedBy == alert.inhibitedBy,
               !isMuted || (alert.lastNotifiedAt == nil && alert.lastNotifiedSeverity == nil) { continue }
            changing.append((active.keys[index], silencedBy, inhibitedBy))
        }
        changing.sort { $0.key < $1.key }
        var changedAt = Dictionary(step.changed.enumerated().map { ($1.fingerprint, $0) }, uniquingKeysWith: { first, _ in first })
        var undone = Set<Int>()
        for (key, silencedBy, inhibitedBy) in changing {
            let before = active[key]!
            let isMuted = silencedBy != nil || inhibitedBy != nil
            var tracked = before
            tracked.silencedBy = silencedBy
            tracked.inhibitedBy = inhibitedBy
            if isMuted {
                tracked.lastNotifiedAt = nil
                tracked.lastNotifiedSeverity = nil
            }
            guard tracked != before else { continue }
            let fingerprint = key.fingerprint
            // Muting can take back all the step did: a muted alert never told is due again at
            // every run, made to notify, then muted as it was. That is no change; written and
            // counted as one, it was 8,900 alerts rewritten at every national `deadline` run
            // (issue 21).
            if let previous = step.previous[key], tracked == previous, let index = changedAt[fingerprint] {
                active[key] = previous
                undone.insert(index)
                continue
            }
            active[key] = tracked
            // The alert whole: as this step made it, or as it was last recorded.
            if let index = changedAt[fingerprint] {
                step.changed[index] = tracked.alert(over: step.changed[index])
            } else {
                changedAt[fingerprint] = step.changed.count
                step.changed.append(tracked.alert(over: try stored(fingerprint)))
            }
            if tracked.muteText != before.muteText {
                step.transitions.append(Transition(
                    fingerprint: fingerprint, at: instant, from: tracked.status, to: tracked.status, severity: tracked.severity,
                    ruleID: tracked.ruleID, subjectID: tracked.subjectID, silencedBy: tracked.muteText))
            }
        }
        if !undone.isEmpty { step.changed = step.changed.indices.filter { !undone.contains($0) }.map { step.changed[$0] } }
        step.notifications.removeAll { $0.reason != .resolved && muted.contains(AlertKey($0.alert.fingerprint)) }
    }
}
