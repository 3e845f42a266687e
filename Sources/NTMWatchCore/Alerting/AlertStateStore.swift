import Foundation
import Logging
import SQLKit
import SQLiteKit

/// Alert state and the notification outbox, in an SQLite file in the state directory.
///
/// A step's alert changes and its notifications are written in one transaction before anything
/// is delivered; a notification leaves the outbox only once every sink has it. A crash between
/// the two delivers the notification again at the next start, with the same id (the webhook
/// file is replaced, not duplicated); a clean stop delivers everything first.
public actor AlertStateStore {
    private let connection: SQLiteConnection
    private let sql: any SQLDatabase
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()

    public static func open(directory: String, logger: Logger) async throws -> AlertStateStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("alerts.sqlite")
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let store = AlertStateStore(connection: connection)
        try await store.prepare()
        return store
    }

    private init(connection: SQLiteConnection) {
        self.connection = connection
        self.sql = connection.sql()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.encoder = encoder
    }

    private func prepare() async throws {
        try await sql.raw("PRAGMA journal_mode = WAL").run()
        try await sql.raw("PRAGMA synchronous = FULL").run()
        try await sql.raw("""
            CREATE TABLE IF NOT EXISTS alerts (
                fingerprint TEXT PRIMARY KEY, check_name TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL)
            """).run()
        try await sql.raw("""
            CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, body TEXT NOT NULL)
            """).run()
    }

    /// Pending and firing alerts.
    public func activeAlerts() async throws -> [Alert] {
        try await sql.raw("SELECT body FROM alerts WHERE status <> 'resolved' ORDER BY fingerprint").all().map {
            try decoder.decode(Alert.self, from: Data(try $0.decode(column: "body", as: String.self).utf8))
        }
    }

    /// Every alert, resolved ones included (the last state of each fingerprint).
    public func allAlerts() async throws -> [Alert] {
        try await sql.raw("SELECT body FROM alerts ORDER BY fingerprint").all().map {
            try decoder.decode(Alert.self, from: Data(try $0.decode(column: "body", as: String.self).utf8))
        }
    }

    public func record(_ step: AlertTracker.Step) async throws {
        guard !step.changed.isEmpty || !step.dropped.isEmpty || !step.notifications.isEmpty else { return }
        try await sql.raw("BEGIN IMMEDIATE").run()
        do {
            for alert in step.changed {
                let body = String(decoding: try encoder.encode(alert), as: UTF8.self)
                try await sql.raw("""
                    INSERT INTO alerts (fingerprint, check_name, status, body)
                    VALUES (\(bind: alert.fingerprint), \(bind: alert.check), \(bind: alert.status.rawValue), \(bind: body))
                    ON CONFLICT (fingerprint) DO UPDATE SET check_name = excluded.check_name,
                        status = excluded.status, body = excluded.body
                    """).run()
            }
            for fingerprint in step.dropped {
                try await sql.raw("DELETE FROM alerts WHERE fingerprint = \(bind: fingerprint)").run()
            }
            for notification in step.notifications {
                let body = String(decoding: try encoder.encode(notification), as: UTF8.self)
                try await sql.raw("""
                    INSERT INTO outbox (id, created_at, body) VALUES (\(bind: notification.id),
                        \(bind: notification.at.formatted(.iso8601)), \(bind: body))
                    ON CONFLICT (id) DO NOTHING
                    """).run()
            }
            try await sql.raw("COMMIT").run()
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Notifications written but not yet delivered, oldest first.
    public func pendingNotifications() async throws -> [Notification] {
        try await sql.raw("SELECT body FROM outbox ORDER BY created_at, id").all().map {
            try decoder.decode(Notification.self, from: Data(try $0.decode(column: "body", as: String.self).utf8))
        }
    }

    public func markDelivered(_ ids: [String]) async throws {
        for id in ids { try await sql.raw("DELETE FROM outbox WHERE id = \(bind: id)").run() }
    }

    public func close() async {
        try? await connection.close()
    }
}
