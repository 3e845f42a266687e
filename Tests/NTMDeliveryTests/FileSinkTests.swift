import CheckKit
import Foundation
import Logging
import NTMAlerting
import NTMAlertingTestSupport
import Synchronization
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

    /// A file shows `max_alerts_per_file` alerts and counts the rest: only those it shows are
    /// read (a national first cycle's group holds 20,000), the first by time and fingerprint,
    /// while every id is listed.
    @Test func aFileReadsOnlyTheNotificationsItShows() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sink = WebhookFileSink(receiver: "a", spool: FileSpool(directory: folder, maxAlertsPerFile: 2), language: .vi,
                                   externalURL: "", logger: Logger(label: "test"))
        let rule = Rule(id: "demo.late", title: LocalizedText(vi: "Trễ", en: "Late"), defaultSeverity: .warning,
                        messageID: "11111111111111111111111111111111", template: LocalizedText(vi: "{subject}", en: "{subject}"))
        var tracker = RecordingTracker()
        let t0 = Date(timeIntervalSince1970: 1_764_000_000)
        var notifications: [NTMAlerting.Notification] = []
        // Five units, each later in the list a second earlier in time.
        for (index, unit) in ["U1", "U2", "U3", "U4", "U5"].enumerated() {
            notifications += tracker.apply(scope: "demo-\(unit)", findings: [LabeledFinding(
                finding: Finding(rule: rule, subject: Subject(kind: "unit", id: unit, name: unit)), check: "demo",
                messageID: rule.messageID, labels: ["rule": rule.id, "subject_id": unit], severity: .warning, pendingFor: .zero)],
                at: t0.addingTimeInterval(Double(10 - index))).notifications
        }
        let asked = Mutex<[String]>([])
        let all = NotificationGroup(receiver: "a", groupKey: "g", groupLabels: [:], notifications: notifications)
        let group = NotificationGroup(receiver: "a", groupKey: "g", groupLabels: [:], entries: all.entries) { entries in
            asked.withLock { $0 += entries.map(\.id) }
            return try await all.notifications(entries)
        }
        let path = try await sink.deliver(group)
        let payload = try JSONDecoder().decode(WebhookPayload.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let earliest = notifications.sorted { $0.at < $1.at }.prefix(2).map(\.id)
        #expect(earliest == [notifications[4].id, notifications[3].id])
        #expect(asked.withLock { $0 } == earliest)
        #expect(payload.alerts.compactMap { $0.annotations["notification_id"] } == earliest)
        #expect(payload.truncatedAlerts == 3)
        #expect(payload.notificationIDs == notifications.map(\.id).sorted())
    }
}
