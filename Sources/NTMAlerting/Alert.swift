import CheckKit
import Foundation

/// A finding as the alert stages see it: with the check that produced it, its identifying
/// labels (hierarchy included), the rule's MESSAGE_ID and the configured severity and `for`.
public struct LabeledFinding: Sendable, Hashable {
    public var finding: Finding
    public var check: String
    public var messageID: String
    public var labels: [String: String]
    public var severity: Severity
    public var pendingFor: Duration
    /// The rule's document and section (`002 §IV.9`), carried to every receiver.
    public var source: String?
    /// Computed once: sorting and tracking read it many times per finding.
    public let fingerprint: String

    public init(finding: Finding, check: String, messageID: String, labels: [String: String], severity: Severity, pendingFor: Duration,
                source: String? = nil) {
        self.finding = finding
        self.check = check
        self.messageID = messageID
        self.labels = labels
        self.severity = severity
        self.pendingFor = pendingFor
        self.source = source
        self.fingerprint = Fingerprint.of(labels)
    }
}

/// An alert: one problem that persists across evaluations, from pending to firing to resolved.
public struct Alert: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable { case pending, firing, resolved }

    public var fingerprint: String
    /// The run that owns the alert: a check's name, or `meta:<check>` for the daemon's alerts
    /// about it. A successful run resolves its scope's alerts that it did not find again.
    public var scope: String
    public var check: String
    public var ruleID: String
    public var messageID: String
    /// Identifying labels: severity is not among them, so a severity change is the same alert.
    public var labels: [String: String]
    public var subject: Subject
    public var severity: Severity
    public var status: Status
    public var activeSince: Date
    public var firingSince: Date?
    public var resolvedAt: Date?
    public var lastNotifiedAt: Date?
    public var lastNotifiedSeverity: Severity?
    public var values: [String: Value]
    public var summary: LocalizedText
    /// The active silences that mute it (their ids), when any.
    public var silencedBy: [String]?
    /// The firing alert whose inhibit rule mutes it (its fingerprint), when any.
    public var inhibitedBy: String?

    public var isMuted: Bool { silencedBy != nil || inhibitedBy != nil }

    /// The document and section that set the rule (`002 §IV.9`), so that whoever gets the alert can
    /// read the duty in its own words: annotation `source`, journald `NTMWATCH_SOURCE`. Nil for a
    /// rule that cites none, and for alerts stored before it was recorded.
    public var source: String? = nil

    /// Labels as receivers see them: the identifying ones plus `severity`.
    public var notificationLabels: [String: String] {
        labels.merging(["severity": severity.rawValue]) { _, new in new }
    }
}

/// One thing to tell the receivers about one alert.
public struct Notification: Sendable, Codable, Hashable {
    public enum Reason: String, Sendable, Codable {
        case firing, severityChanged = "severity_changed", repeated, resolved
    }

    /// Unique and stable: the same notification delivered twice (after a crash) has the same id,
    /// so a webhook file is replaced, not duplicated.
    public var id: String
    public var reason: Reason
    public var at: Date
    public var alert: Alert
}

/// Alertmanager's fingerprint: FNV-1a 64 over the sorted label names and values, each followed
/// by the byte 0xff, as 16 hex digits.
public enum Fingerprint {
    public static func of(_ labels: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        for name in labels.keys.sorted() {
            mix(name.utf8); mix([0xff])
            mix(labels[name]!.utf8); mix([0xff])
        }
        return hex(hash)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// 16 lower-case hex digits; `String(format:)` costs a locale lookup per call.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 { buffer[index] = digits[Int((value >> UInt64(60 - 4 * index)) & 0xf)] }
            return 16
        }
    }
}
