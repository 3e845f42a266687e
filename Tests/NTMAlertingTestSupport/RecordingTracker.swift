import CheckKit
import Foundation
import NTMAlerting

/// An ``AlertTracker`` with the alerts it made, kept as the daemon's state file keeps them: the
/// tracker itself keeps only their lifecycle and asks for the rest (``AlertTracker/Stored``).
/// Each step is recorded as soon as it is made, muting included.
public struct RecordingTracker {
    public var tracker: AlertTracker
    /// Every alert as last recorded, resolved ones included, by fingerprint.
    public private(set) var recorded: [String: Alert] = [:]

    public init(repeatInterval: [Severity: Duration] = AlertTracker.defaultRepeatInterval) {
        tracker = AlertTracker(repeatInterval: repeatInterval)
    }

    /// Pending and firing alerts, whole.
    public var active: [String: Alert] {
        Dictionary(uniqueKeysWithValues: tracker.active.values.map { ($0.fingerprint, recorded[$0.fingerprint]!) })
    }

    public mutating func apply(scope: String, findings: [LabeledFinding], at instant: Date) -> AlertTracker.Step {
        let recorded = self.recorded
        let step = tracker.apply(scope: scope, findings: findings, at: instant) { recorded[$0] }
        record(step)
        return step
    }

    public mutating func retire(keeping scopes: Set<String>, at instant: Date) -> AlertTracker.Step {
        let recorded = self.recorded
        let step = tracker.retire(keeping: scopes, at: instant) { recorded[$0] }
        record(step)
        return step
    }

    public mutating func mute(_ step: inout AlertTracker.Step, scopes: Set<String>, with muting: Muting, at instant: Date) {
        let recorded = self.recorded
        tracker.mute(&step, scopes: scopes, with: muting, at: instant) { recorded[$0] }
        record(step)
    }

    private mutating func record(_ step: AlertTracker.Step) {
        for alert in step.changed { recorded[alert.fingerprint] = alert }
        for fingerprint in step.dropped { recorded[fingerprint] = nil }
    }
}
