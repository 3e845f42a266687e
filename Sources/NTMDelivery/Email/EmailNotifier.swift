import CheckKit
import Foundation
import NTMAlerting
import NTMProcess

/// An e-mail receiver: where its messages go and how they are handed over.
public struct EmailSettings: Sendable {
    public var to: [String]
    public var from: String
    /// The `sendmail` interface: msmtp (`msmtp-mta`), whose `sendmail` is not setgid and so
    /// works under the unit's `NoNewPrivileges=yes`, unlike postfix's.
    public var sendmail: String
    /// Put before ntmwatch's own arguments, e.g. `[-C, /etc/ntmwatch/msmtprc]`.
    public var sendmailArguments: [String]
    public var timeout: Duration
    public var templates: EmailTemplates

    public init(to: [String], from: String, sendmail: String = "/usr/sbin/sendmail", sendmailArguments: [String] = [],
                timeout: Duration = .seconds(60), templates: EmailTemplates) {
        self.to = to
        self.from = from
        self.sendmail = sendmail
        self.sendmailArguments = sendmailArguments
        self.timeout = timeout
        self.templates = templates
    }
}

/// Hands each notification group to `sendmail` as one message (plain text and HTML), as cron,
/// smartd and mdadm do. A re-sent batch (after a crash) has the same `Message-ID`, derived
/// from its notification ids, which `X-NTMWatch-Notification-IDs` lists.
public struct EmailNotifier: Notifier {
    public let receiver: String
    public let settings: EmailSettings
    public let language: Language
    public let instance: String

    public init(receiver: String, settings: EmailSettings, language: Language, instance: String) {
        self.receiver = receiver
        self.settings = settings
        self.language = language
        self.instance = instance
    }

    public func notify(_ group: NotificationGroup) async throws {
        try await send(message(for: group.notifications(), at: Date()))
    }

    /// Sends a digest rendered with the digest templates.
    public func send(_ digest: Digest, templates: EmailTemplates, at now: Date) async throws {
        let model = digest.model(instance: instance, language: language)
        try await send(EmailMessage(
            from: settings.from, to: settings.to,
            subject: templates.subject.render(model).trimmingCharacters(in: .whitespacesAndNewlines), date: now,
            messageID: digest.messageID(instance: instance), extraHeaders: [("X-NTMWatch-Receiver", receiver)],
            text: templates.text.render(model), html: templates.html.render(model)))
    }

    func send(_ message: EmailMessage) async throws {
        let data = message.rendered()
        let outcome: Subprocess.Outcome
        do {
            outcome = try await Subprocess(
                arguments: [settings.sendmail] + settings.sendmailArguments + ["-i", "-f", settings.from, "--"] + settings.to,
                environment: Subprocess.cleanEnvironment(), input: data, timeout: settings.timeout, maxOutput: 64 * 1024).run()
        } catch {
            throw DeliveryFailure(reason: "\(settings.sendmail): \(error)")
        }
        guard outcome.exitStatus == 0 else {
            let status = outcome.exitStatus.map { "exited with status \($0)" } ?? "was killed by signal \(outcome.signal ?? 0)"
            let stderr = String(decoding: outcome.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw DeliveryFailure(reason: "\(settings.sendmail) \(status)" + (stderr.isEmpty ? "" : ": \(stderr)"))
        }
    }

    func message(for notifications: [NTMAlerting.Notification], at now: Date) -> EmailMessage {
        let notifications = notifications.sorted {
            ($0.alert.severity, $1.at, $0.alert.fingerprint) > ($1.alert.severity, $0.at, $1.alert.fingerprint)
        }
        let ids = notifications.map(\.id).sorted()
        let model = Self.model(notifications, receiver: receiver, instance: instance, language: language)
        let hash = Fingerprint.of(["notification_ids": ids.joined(separator: ",")])
        return EmailMessage(
            from: settings.from, to: settings.to,
            subject: settings.templates.subject.render(model).trimmingCharacters(in: .whitespacesAndNewlines),
            date: now, messageID: "\(hash).\(ids.count)@\(instance).ntmwatch",
            extraHeaders: [("X-NTMWatch-Notification-IDs", ids.joined(separator: ",\n ")), ("X-NTMWatch-Receiver", receiver)],
            text: settings.templates.text.render(model), html: settings.templates.html.render(model))
    }

    /// What templates see: `receiver`, `instance`, `title`, `count`, `firing_count`, `has_firing`,
    /// `resolved_count`, `notification_ids`, and `alerts` (`severity`, `severity_text`, `status`,
    /// `status_text`, `rule`, `subject`, `summary`, `since`, `notification_id`, `labels`).
    static func model(_ notifications: [NTMAlerting.Notification], receiver: String, instance: String, language: Language) -> [String: Any] {
        let resolved = notifications.filter { $0.reason == .resolved }.count
        let alerts: [[String: Any]] = notifications.map { notification in
            let alert = notification.alert
            let isResolved = notification.reason == .resolved
            return [
                "severity": alert.severity.rawValue, "severity_text": alert.severity.text(in: language),
                "status": isResolved ? "resolved" : "firing",
                "status_text": isResolved ? (language == .vi ? "Đã hết" : "Resolved") : (language == .vi ? "Đang xảy ra" : "Firing"),
                "rule": alert.ruleID, "subject": alert.subject.name, "summary": alert.summary(in: language),
                "since": Value.instant(alert.firingSince ?? alert.activeSince).formatted(in: language),
                "notification_id": notification.id, "labels": alert.notificationLabels,
            ]
        }
        let subjects = Set(notifications.map(\.alert.subject.name)).sorted()
        let title = subjects.count == 1 ? subjects[0] : subjects.prefix(2).joined(separator: ", ") + (subjects.count > 2 ? ", …" : "")
        return [
            "receiver": receiver, "instance": instance, "title": title, "count": notifications.count,
            "firing_count": notifications.count - resolved, "has_firing": notifications.count > resolved, "resolved_count": resolved,
            "notification_ids": notifications.map(\.id).sorted().joined(separator: ", "), "alerts": alerts,
        ]
    }
}
