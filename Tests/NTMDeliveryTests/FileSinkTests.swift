import CheckKit
import Foundation
import Logging
import NTMAlerting
import NTMAlertingTestSupport
import Testing
@testable import NTMDelivery

@Suite struct FileSinkTests {
    /// Defect 6: temporary files a killed writer left were never removed nor counted.
    @Test func leftoverTemporaryFilesAreRemoved() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let leftover = (folder as NSString).appendingPathComponent(".20250101T000000.000Z-aaaa-bbbb.json.999999.tmp")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: leftover))
        let sink = WebhookFileSink(receiver: "a", spool: FileSpool(directory: folder), language: .vi, externalURL: "", logger: Logger(label: "test"))
        let rule = Rule(id: "demo.late", title: LocalizedText(vi: "Trễ", en: "Late"), defaultSeverity: .warning,
                        messageID: "11111111111111111111111111111111", template: LocalizedText(vi: "{subject}", en: "{subject}"))
        var tracker = RecordingTracker()
        let step = tracker.apply(scope: "demo", findings: [LabeledFinding(
            finding: Finding(rule: rule, subject: Subject(kind: "unit", id: "U1", name: "U1")), check: "demo",
            messageID: rule.messageID, labels: ["rule": rule.id, "subject_id": "U1"], severity: .warning, pendingFor: .zero)], at: Date())
        try await sink.notify(NotificationGroup(receiver: "a", groupKey: "g", groupLabels: [:], notifications: step.notifications))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(names.count == 1 && names[0].hasSuffix(".json"))
        let payload = try JSONDecoder().decode(WebhookPayload.self, from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(names[0])")))
        #expect(payload.notificationIDs == step.notifications.map(\.id))
        #expect(payload.alerts[0].annotations["notification_id"] == step.notifications[0].id)
    }
}
