import CheckKit
import Foundation

/// A receiver's `digest:` block.
public struct DigestSettings: Sendable {
    public var schedule: DigestSchedule
    /// Where the HTML file goes; the receiver's spool for a file receiver when not set.
    public var directory: String?
    public var templates: EmailTemplates

    public init(schedule: DigestSchedule, directory: String?, templates: EmailTemplates) {
        self.schedule = schedule
        self.directory = directory
        self.templates = templates
    }
}

/// Hands a digest to its receiver: by e-mail for an e-mail receiver, and as an HTML file in the
/// configured folder or the receiver's spool. The file of a period is replaced, never duplicated.
public enum DigestDelivery {
    public static func deliver(_ digest: Digest, to receiver: ReceiverConfiguration, settings: DigestSettings,
                               instance: String, language: Language, at now: Date) async throws {
        var folder = settings.directory
        switch receiver.integration {
        case .files(let spool):
            folder = folder ?? spool.directory
        case .email(let email):
            try await EmailNotifier(receiver: receiver.name, settings: email, language: language, instance: instance)
                .send(digest, templates: settings.templates, at: now)
        case .http:
            // A webhook takes notifications, not pages: the digest is a file in digest.directory.
            guard folder != nil else {
                throw DeliveryFailure(reason: "receiver \(receiver.name) is an HTTP receiver: set digest.directory to keep its digests")
            }
        }
        guard let folder else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let html = settings.templates.html.render(digest.model(instance: instance, language: language))
        try Data(html.utf8).write(to: URL(fileURLWithPath: folder).appendingPathComponent(digest.fileName), options: .atomic)
    }
}
