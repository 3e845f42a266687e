import CheckKit
import Foundation
import NTMAlerting

/// Writes each notification as one structured journal entry, or one line on stderr when no
/// journald listens (a daemon run by hand).
public struct JournaldSink: Notifier {
    public let instance: String
    public let language: Language
    public var receiver: String { journaldReceiver }

    public init(instance: String, language: Language) {
        self.instance = instance
        self.language = language
    }

    /// Labels with fields of their own; every other label and value becomes `NTMWATCH_<NAME>`.
    static let reservedLabels: Set<String> = ["alertname", "check", "rule", "subject_kind", "subject_id", "instance", "severity"]

    public func fields(for notification: NTMAlerting.Notification) -> [(String, String)] {
        let alert = notification.alert
        let resolved = notification.reason == .resolved
        let both = alert.summary
        let summary = both.text(in: language)
        let message = resolved ? (language == .vi ? "Đã hết: " : "Resolved: ") + summary : summary
        var fields: [(String, String)] = [
            ("MESSAGE", message),
            // A recovery is news, not a problem: it should not show under `journalctl -p warning`.
            ("PRIORITY", String(resolved ? Severity.notice.syslogPriority : alert.severity.syslogPriority)),
            ("MESSAGE_ID", alert.messageID),
            ("SYSLOG_IDENTIFIER", "ntmwatchd"),
            ("NTMWATCH_INSTANCE", instance),
            ("NTMWATCH_CHECK", alert.check),
            ("NTMWATCH_RULE", alert.ruleID),
            ("NTMWATCH_STATE", resolved ? "resolved" : "firing"),
            ("NTMWATCH_REASON", notification.reason.rawValue),
            ("NTMWATCH_SEVERITY", alert.severity.rawValue),
            ("NTMWATCH_FINGERPRINT", alert.fingerprint),
            ("NTMWATCH_NOTIFICATION_ID", notification.id),
            ("NTMWATCH_SUBJECT_KIND", alert.subject.kind),
            ("NTMWATCH_SUBJECT_ID", alert.subject.id),
            ("NTMWATCH_SUBJECT_NAME", alert.subject.name),
            ("NTMWATCH_SUMMARY_EN", both.en),
            ("NTMWATCH_SUMMARY_VI", both.vi),
            ("NTMWATCH_STARTS_AT", (alert.firingSince ?? alert.activeSince).formatted(.iso8601)),
        ]
        if let source = alert.source { fields.append(("NTMWATCH_SOURCE", source)) }
        var used = Set(fields.map(\.0))
        for name in alert.labels.keys.sorted() where !Self.reservedLabels.contains(name) {
            let field = "NTMWATCH_" + Journal.fieldName(name)
            if used.insert(field).inserted { fields.append((field, alert.labels[name]!)) }
        }
        for key in alert.values.keys.sorted() {
            let field = "NTMWATCH_" + Journal.fieldName(key)
            if used.insert(field).inserted { fields.append((field, alert.values[key]!.plain(in: language))) }
        }
        return fields
    }

    public func notify(_ group: NotificationGroup) async throws {
        let toJournal = Journal.isAvailable
        for notification in try await group.notifications() {
            let fields = fields(for: notification)
            if toJournal {
                let code = Journal.send(fields)
                if code < 0 {
                    let reason = String(cString: strerror(-code))
                    throw DeliveryFailure(reason: "sd_journal_sendv failed: \(reason)")
                }
            } else {
                let message: String = fields.first { $0.0 == "MESSAGE" }?.1 ?? ""
                FileHandle.standardError.write(Data("\(message) [\(notification.id)]\n".utf8))
            }
        }
    }
}
