import CheckKit
import Foundation
import Logging
import NTMAlerting
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Alertmanager's webhook payload, version 4.
/// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
public struct WebhookPayload: Codable, Sendable, Equatable {
    public struct Alert: Codable, Sendable, Equatable {
        public var status: String
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String
        public var fingerprint: String
    }

    public var version = "4"
    public var groupKey: String
    public var truncatedAlerts: Int
    public var status: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var commonLabels: [String: String]
    public var commonAnnotations: [String: String]
    public var externalURL: String
    public var alerts: [Alert]
    /// ntmwatch's addition: the ids of the notifications in this payload, so that a receiver can
    /// deduplicate a payload sent again after a crash. Alertmanager's receivers ignore it.
    public var notificationIDs: [String]
}

/// Writes each group's notifications as one JSON file in the receiver's spool folder.
///
/// Files are written atomically (temporary file, fsync, rename, fsync of the folder) and named
/// `<UTC time>-<group hash>-<content hash>.json`, so that `ls` lists them in time order, two
/// groups never collide, and a batch delivered again after a crash (the ledger keeps its
/// composition) replaces its own file.
public struct WebhookFileSink: Notifier {
    public let receiver: String
    public let spool: FileSpool
    public let language: Language
    public let externalURL: String
    public let logger: Logger
    /// The dispatcher writes a few of a receiver's groups at once: one of them at a time trims
    /// the spool, so two never count the same files and remove more than the cap asks.
    private let trimming = SpoolTrimming()

    public init(receiver: String, spool: FileSpool, language: Language, externalURL: String, logger: Logger) {
        self.receiver = receiver
        self.spool = spool
        self.language = language
        self.externalURL = externalURL
        self.logger = logger
    }

    static let zeroTime = "0001-01-01T00:00:00Z"

    /// Reads only the notifications it shows: the first `maxAlertsPerFile` by time and fingerprint.
    public func payload(for group: NotificationGroup) async throws -> WebhookPayload {
        let sorted = group.entries.sorted { ($0.at, $0.fingerprint) < ($1.at, $1.fingerprint) }
        let kept = try await group.notifications(Array(sorted.prefix(spool.maxAlertsPerFile)))
        let alerts = kept.map { notification -> WebhookPayload.Alert in
            let alert = notification.alert
            let resolved = notification.reason == .resolved
            let summary = alert.summary
            var annotations: [String: String] = [
                "summary": summary.text(in: language),
                "summary_vi": summary.vi,
                "summary_en": summary.en,
                "subject_name": alert.subject.name,
                "reason": notification.reason.rawValue,
                "notification_id": notification.id,
            ]
            if let source = alert.source { annotations["source"] = source }
            for (key, value) in alert.values where annotations[key] == nil { annotations[key] = value.plain(in: language) }
            return WebhookPayload.Alert(
                status: resolved ? "resolved" : "firing", labels: alert.notificationLabels, annotations: annotations,
                startsAt: Self.time(alert.firingSince ?? alert.activeSince),
                endsAt: resolved ? Self.time(alert.resolvedAt ?? notification.at) : Self.zeroTime,
                generatorURL: externalURL, fingerprint: alert.fingerprint)
        }
        return WebhookPayload(
            groupKey: group.groupKey, truncatedAlerts: sorted.count - kept.count,
            status: alerts.contains { $0.status == "firing" } ? "firing" : "resolved", receiver: group.receiver,
            groupLabels: group.groupLabels, commonLabels: Self.common(alerts.map(\.labels)),
            commonAnnotations: Self.common(alerts.map(\.annotations)), externalURL: externalURL, alerts: alerts,
            notificationIDs: group.ids.sorted())
    }

    public func notify(_ group: NotificationGroup) async throws {
        do {
            try await deliver(group)
        } catch {
            throw DeliveryFailure(reason: "\(error)")
        }
    }

    /// Writes the group's file and returns its path.
    @discardableResult
    public func deliver(_ group: NotificationGroup) async throws -> String {
        let payload = try await payload(for: group)
        let body = payload.json(pretty: true)
        let at = group.entries.map(\.at).max() ?? Date()
        let stamp = at.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)
            .year().month().day().time(includingFractionalSeconds: true).timeSeparator(.omitted).dateSeparator(.omitted))
        // The payload lists the ids sorted already (20,000 of them in a national group).
        let contentKey = payload.notificationIDs.joined(separator: "\n")
        let name = "\(stamp)-\(Fingerprint.of(["g": group.groupKey]).prefix(8))-\(Fingerprint.of(["n": contentKey]).prefix(8)).json"
        let path = try AtomicFile.write(body, directory: spool.directory, name: name)
        trimming.lock.withLock { _ in enforceSpoolLimit() }
        return path
    }

    /// Removes temporary files that a killed writer left behind (only one daemon writes a spool:
    /// it holds the instance lock, so any temporary file not of this process is dead), then the
    /// oldest files while the spool is over its size cap: a receiver that stopped reading must not
    /// fill the disk. Each removal is logged.
    func enforceSpoolLimit() {
        let directory = spool.directory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let ownSuffix = ".\(getpid()).tmp"
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") && !name.hasSuffix(ownSuffix) {
            let path = (directory as NSString).appendingPathComponent(name)
            if unlink(path) == 0 {
                logger.notice("removed a temporary file a stopped writer left in the spool of receiver \(receiver)", metadata: ["file": "\(path)"])
            }
        }
        var files = names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().map { name -> (String, Int64) in
            let path = (directory as NSString).appendingPathComponent(name)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            return (path, size)
        }
        var total = files.reduce(0) { $0 + $1.1 }
        while total > spool.maxSpoolBytes, files.count > 1 {
            let (oldest, size) = files.removeFirst()
            try? FileManager.default.removeItem(atPath: oldest)
            total -= size
            logger.warning("spool of receiver \(receiver) is over \(spool.maxSpoolBytes) bytes; removed its oldest file",
                           metadata: ["file": "\(oldest)"])
        }
    }

    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: TimeZone(identifier: "UTC")!))
    }

    static func common(_ maps: [[String: String]]) -> [String: String] {
        guard var common = maps.first else { return [:] }
        for map in maps.dropFirst() { common = common.filter { map[$0.key] == $0.value } }
        return common
    }
}

private final class SpoolTrimming: Sendable {
    let lock = Mutex(())
}

/// Write-to-temporary, fsync, rename, fsync-the-folder: a reader sees the whole file or none.
public enum AtomicFile {
    public struct Failed: Error, CustomStringConvertible {
        public let path: String, operation: String, code: Int32
        public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    public static func write(_ data: Data, directory: String, name: String, mode: mode_t = 0o640) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let final = (directory as NSString).appendingPathComponent(name)
        let temporary = (directory as NSString).appendingPathComponent(".\(name).\(getpid()).tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failed(path: temporary, operation: "open", code: errno) }
        var failure: Failed?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; failure = Failed(path: temporary, operation: "write", code: errno); return }
                offset += written
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = Failed(path: temporary, operation: "fsync", code: errno) }
        close(fd)
        if let failure { unlink(temporary); throw failure }
        guard rename(temporary, final) == 0 else {
            let code = errno
            unlink(temporary)
            throw Failed(path: final, operation: "rename", code: code)
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 { fsync(directoryFD); close(directoryFD) }
        return final
    }
}
