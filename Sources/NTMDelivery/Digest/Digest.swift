import CheckKit
import Foundation
import Mustache
import NTMAlerting

/// One receiver's digest for one period, from the alert history: what is new, what still
/// fires (by the parent unit in force, then unit, most severe first; overdue duties by days
/// overdue; debts by amount), what resolved, and what is silenced until when.
public struct Digest: Sendable {
    public let receiver: String
    public let from: Date
    public let to: Date
    public let new: [Alert]
    public let firing: [(parent: String, units: [(unit: String, alerts: [Alert])])]
    public let resolved: [Alert]
    public let silenced: [(alert: Alert, until: Date?)]

    /// - Parameters:
    ///   - alerts: every alert's last state (resolved ones included) that routes to the receiver.
    ///   - transitions: the history of the period `(from, to]`.
    ///   - units: the administrative units in force at `to`.
    public init(receiver: String, from: Date, to: Date, alerts: [Alert], transitions: [AlertTracker.Transition],
                silences: [Silence], units: [String: AdministrativeUnit]) {
        self.receiver = receiver
        self.from = from
        self.to = to
        let byFingerprint = Dictionary(alerts.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        let inPeriod = transitions.filter { $0.at > from && $0.at <= to }
        func pick(_ fingerprints: [String]) -> [Alert] {
            var seen = Set<String>()
            return fingerprints.compactMap { seen.insert($0).inserted ? byFingerprint[$0] : nil }.sorted(by: Self.moreUrgent)
        }
        let active = alerts.filter { $0.status == .firing }
        new = pick(inPeriod.filter { $0.to == .firing && $0.from != .firing }.map(\.fingerprint))
            .filter { $0.status == .firing && !$0.isMuted }
        resolved = pick(inPeriod.filter { $0.to == .resolved }.map(\.fingerprint)).filter { $0.status == .resolved }
        silenced = active.filter(\.isMuted).sorted(by: Self.moreUrgent).map { alert in
            let ends = silences.filter { alert.silencedBy?.contains($0.id) ?? false }.map(\.endsAt).max()
            return (alert: alert, until: ends)
        }
        func name(_ id: String?) -> String { id.flatMap { units[$0]?.name } ?? id ?? "—" }
        var groups: [String: [String: [Alert]]] = [:]
        for alert in active where !alert.isMuted {
            let unit = alert.subject.unitID
            let parent = unit.flatMap { units[$0]?.parentID }
            groups[name(parent), default: [:]][name(unit), default: []].append(alert)
        }
        firing = groups.keys.sorted().map { parent in
            let units = groups[parent]!
            return (parent: parent, units: units.keys.sorted().map { unit in (unit: unit, alerts: units[unit]!.sorted(by: Self.moreUrgent)) })
        }
    }

    /// Most severe first; then the duty overdue longest, the largest debt, the oldest.
    static func moreUrgent(_ a: Alert, _ b: Alert) -> Bool {
        func days(_ alert: Alert) -> Int64 {
            if case .integer(let n) = alert.values["days_overdue"] { return n }
            return -1
        }
        func amount(_ alert: Alert) -> Int64 {
            alert.values.values.compactMap { value -> Int64? in
                if case .amountVND(let n) = value { return n }
                return nil
            }.max() ?? -1
        }
        if a.severity != b.severity { return a.severity > b.severity }
        if days(a) != days(b) { return days(a) > days(b) }
        if amount(a) != amount(b) { return amount(a) > amount(b) }
        let since = (a.firingSince ?? a.activeSince, b.firingSince ?? b.activeSince)
        return since.0 != since.1 ? since.0 < since.1 : a.fingerprint < b.fingerprint
    }

    public var isEmpty: Bool { new.isEmpty && firing.isEmpty && resolved.isEmpty && silenced.isEmpty }

    /// Stable for the period, so a digest sent again after a crash is recognised as the same.
    public func messageID(instance: String) -> String {
        "digest.\(receiver).\(Int(to.timeIntervalSince1970))@\(instance).ntmwatch"
    }

    /// `digest-2024-10-25-0730.html`: civil time of the period's end.
    public var fileName: String {
        let day = CivilDate(to)
        let minutes = Int(to.timeIntervalSince(day.startInstant()) / 60)
        return "digest-\(day.description)-\(String(format: "%02d%02d", minutes / 60, minutes % 60)).html"
    }

    /// What the templates see: `receiver`, `from`, `to`, `new`, `firing` (`parent`, `units`
    /// (`unit`, `alerts`)), `resolved`, `silenced` (with `until`), the counts and `has_*` flags.
    public func model(instance: String, language: Language) -> [String: Any] {
        func time(_ date: Date) -> String { Value.instant(date).formatted(in: language) }
        func row(_ alert: Alert) -> [String: Any] {
            ["severity": alert.severity.rawValue, "severity_text": alert.severity.text(in: language), "rule": alert.ruleID,
             "subject": alert.subject.name, "summary": alert.summary(in: language),
             "since": time(alert.firingSince ?? alert.activeSince), "resolved_at": alert.resolvedAt.map(time) ?? ""]
        }
        let firingCount = firing.reduce(0) { $0 + $1.units.reduce(0) { $0 + $1.alerts.count } }
        return [
            "receiver": receiver, "instance": instance, "from": time(from), "to": time(to),
            "new": new.map(row), "has_new": !new.isEmpty, "new_count": new.count,
            "firing": firing.map { group in
                ["parent": group.parent, "units": group.units.map { ["unit": $0.unit, "alerts": $0.alerts.map(row)] as [String: Any] }]
                    as [String: Any]
            },
            "has_firing": firingCount > 0, "firing_count": firingCount,
            "resolved": resolved.map(row), "has_resolved": !resolved.isEmpty, "resolved_count": resolved.count,
            "silenced": silenced.map { entry -> [String: Any] in
                var fields = row(entry.alert)
                fields["until"] = entry.until.map(time) ?? "—"
                return fields
            },
            "has_silenced": !silenced.isEmpty, "silenced_count": silenced.count,
        ]
    }
}
