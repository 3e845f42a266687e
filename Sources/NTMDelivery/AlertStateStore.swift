import CheckKit
import Foundation
import Logging
import NTMAlerting
import SQLKit
import SQLiteKit

/// Alert state, the delivery ledger and the history, in one SQLite file in the state directory.
///
/// - `alerts`: the last state of each fingerprint.
/// - `notifications`: every notification recorded, with its body (kept for the history's retention).
/// - `deliveries`: the ledger, one row per (notification, receiver): each receiver acknowledges,
///   retries and fails on its own. A row leaves `pending` in the same transaction that records
///   the receiver's acceptance, so a crash re-sends at most the batch that was in flight, with the
///   same ids and the same composition (its `batch`).
/// - `dead_letters`: rows that could not be delivered within the dead-letter age.
/// - `alert_history`, `delivery_history`: append-only, for digests, the console and reports.
/// - `silences`: written by `ntmwatch silence` while the daemon runs, read by it at each record.
/// - `digests`: each receiver's digest periods, claimed before sending and marked when sent.
///
/// A step's alert changes, transitions, notifications and ledger rows are written in one
/// transaction before anything is delivered.
public actor AlertStateStore {
    private let connection: SQLiteConnection
    private let sql: any SQLDatabase
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()
    public nonisolated let path: String

    static let schemaVersion = 7

    public struct NewerSchema: Error, CustomStringConvertible {
        public let path: String, version: Int
        public var description: String {
            "\(path) was written by a newer ntmwatch (state schema \(version), this one knows \(AlertStateStore.schemaVersion)); upgrade ntmwatch or use another state_directory"
        }
    }

    /// Opens (and creates or upgrades) the state file for the daemon.
    public static func open(directory: String, logger: Logger) async throws -> AlertStateStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("alerts.sqlite")
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let store = AlertStateStore(connection: connection, path: path)
        try await store.prepare()
        return store
    }

    /// Opens the state file for reading only (`ntmwatch alerts`, reports): nothing is created,
    /// migrated or written, and it works while the daemon runs and on a read-only folder.
    public static func openReadOnly(directory: String, logger: Logger) async throws -> AlertStateStore? {
        let path = (directory as NSString).appendingPathComponent("alerts.sqlite")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let store = AlertStateStore(connection: connection, path: path)
        try await store.sql.raw("PRAGMA query_only = ON").run()
        return store
    }

    private init(connection: SQLiteConnection, path: String) {
        self.connection = connection
        self.sql = connection.sql()
        self.path = path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.encoder = encoder
    }

    private func prepare() async throws {
        try await sql.raw("PRAGMA journal_mode = WAL").run()
        try await sql.raw("PRAGMA synchronous = FULL").run()
        try await sql.raw("PRAGMA busy_timeout = 5000").run()
        let version = try await sql.raw("PRAGMA user_version").first()?.decode(column: "user_version", as: Int.self) ?? 0
        if version > Self.schemaVersion { throw NewerSchema(path: path, version: version) }
        guard version < Self.schemaVersion else { return }
        try await transaction {
            for statement in Self.schema { try await self.sql.raw(SQLQueryString(statement)).run() }
            // Version 4 records what muted an alert in its history.
            let columns = try await self.sql.raw("PRAGMA table_info(alert_history)").all().map { try $0.decode(column: "name", as: String.self) }
            if !columns.contains("silenced_by") {
                try await self.sql.raw("ALTER TABLE alert_history ADD COLUMN silenced_by TEXT").run()
            }
            // Version 5 keeps alerts in AlertCodec's packed form; `body` (JSON) stays for rows
            // written before, and is read when `packed` is NULL.
            let alertColumns = try await self.sql.raw("PRAGMA table_info(alerts)").all().map { try $0.decode(column: "name", as: String.self) }
            if !alertColumns.contains("packed") {
                try await self.sql.raw("ALTER TABLE alerts ADD COLUMN packed BLOB").run()
            }
            try await self.addConsoleColumns()
            // Version 7 keeps notifications packed too: the ledger's rows carry their alert, and
            // a national first cycle spent a third of its time encoding and decoding them as JSON.
            let notificationColumns = try await self.sql.raw("PRAGMA table_info(notifications)").all().map { try $0.decode(column: "name", as: String.self) }
            if !notificationColumns.contains("packed") {
                try await self.sql.raw("ALTER TABLE notifications ADD COLUMN packed BLOB").run()
            }
            try await self.sql.raw(SQLQueryString("PRAGMA user_version = \(unsafeRaw: String(Self.schemaVersion))")).run()
        }
    }

    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS alerts (
            fingerprint TEXT PRIMARY KEY, check_name TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL, packed BLOB)
        """,
        // Version 1's outbox: rows still in it are routed into the ledger at the next start.
        "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, body TEXT NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS notifications (
            id TEXT PRIMARY KEY, created_at REAL NOT NULL, fingerprint TEXT NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL,
            packed BLOB)
        """,
        """
        CREATE TABLE IF NOT EXISTS deliveries (
            notification_id TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL, group_labels TEXT NOT NULL,
            created_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending', batch TEXT,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, last_error TEXT, delivered_at REAL,
            PRIMARY KEY (notification_id, receiver))
        """,
        "CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (state, next_attempt_at)",
        """
        CREATE TABLE IF NOT EXISTS aggregation_groups (
            receiver TEXT NOT NULL, group_key TEXT NOT NULL, last_flush_at REAL NOT NULL, PRIMARY KEY (receiver, group_key))
        """,
        """
        CREATE TABLE IF NOT EXISTS dead_letters (
            notification_id TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL, created_at REAL NOT NULL,
            died_at REAL NOT NULL, attempts INTEGER NOT NULL, last_error TEXT, PRIMARY KEY (notification_id, receiver))
        """,
        """
        CREATE TABLE IF NOT EXISTS alert_history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, at REAL NOT NULL, from_status TEXT,
            to_status TEXT, severity TEXT NOT NULL, rule TEXT NOT NULL, subject_id TEXT NOT NULL, silenced_by TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS alert_history_fingerprint ON alert_history (fingerprint, at)",
        """
        CREATE TABLE IF NOT EXISTS delivery_history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, notification_id TEXT NOT NULL, receiver TEXT NOT NULL, at REAL NOT NULL,
            result TEXT NOT NULL, batch TEXT, error TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS delivery_history_notification ON delivery_history (notification_id)",
        // Version 3: what `ntmwatch status`, the metrics and the console show about the daemon itself.
        """
        CREATE TABLE IF NOT EXISTS check_runs (
            check_name TEXT PRIMARY KEY, last_run_at REAL NOT NULL, duration REAL, outcome TEXT NOT NULL,
            reason TEXT, findings INTEGER, consecutive_failures INTEGER NOT NULL DEFAULT 0, last_success_at REAL)
        """,
        "CREATE TABLE IF NOT EXISTS daemon (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        // Version 4: silences and digests. `body` is the silence in Alertmanager's v2 JSON, so an
        // export is the rows as they are.
        """
        CREATE TABLE IF NOT EXISTS silences (
            id TEXT PRIMARY KEY, starts_at REAL NOT NULL, ends_at REAL NOT NULL, body TEXT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS digests (
            receiver TEXT NOT NULL, period_end REAL NOT NULL, claimed_at REAL NOT NULL, sent_at REAL,
            PRIMARY KEY (receiver, period_end))
        """,
    ]

    /// Version 6: the console. Its pages count and place tens of thousands of open alerts;
    /// decoding each per request took seconds at national scale (issue 19). The alerts' rows carry
    /// what the pages select on (severity, unit, since, resolved), written with the alert, under a
    /// covering index of the open ones; `alert_changes` counts the alerts' writes (triggers), which
    /// the cached overview is keyed by: the heartbeat and the ledger change the file every minute,
    /// the alerts far less often.
    private func addConsoleColumns() async throws {
        let columns = try await sql.raw("PRAGMA table_info(alerts)").all().map { try $0.decode(column: "name", as: String.self) }
        guard !columns.contains("unit_id") else { return }
        for column in ["severity TEXT", "unit_id TEXT", "active_since REAL", "resolved_at REAL"] {
            try await sql.raw(SQLQueryString("ALTER TABLE alerts ADD COLUMN \(unsafeRaw: column)")).run()
        }
        for alert in try await decodeAlerts("SELECT packed, body FROM alerts") {
            try await sql.raw("""
                UPDATE alerts SET \(Self.consoleColumns(alert)) WHERE fingerprint = \(bind: alert.fingerprint)
                """).run()
        }
        for statement in [
            """
            CREATE INDEX IF NOT EXISTS alerts_open ON alerts (status, fingerprint, severity, unit_id, active_since)
            WHERE status <> 'resolved'
            """,
            "CREATE TABLE IF NOT EXISTS alert_changes (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL)",
            "INSERT OR IGNORE INTO alert_changes (id, count) VALUES (1, 0)",
            "CREATE TRIGGER IF NOT EXISTS alerts_inserted AFTER INSERT ON alerts BEGIN UPDATE alert_changes SET count = count + 1; END",
            "CREATE TRIGGER IF NOT EXISTS alerts_updated AFTER UPDATE ON alerts BEGIN UPDATE alert_changes SET count = count + 1; END",
            "CREATE TRIGGER IF NOT EXISTS alerts_deleted AFTER DELETE ON alerts BEGIN UPDATE alert_changes SET count = count + 1; END",
            "CREATE INDEX IF NOT EXISTS alert_history_at ON alert_history (at)",
            "CREATE INDEX IF NOT EXISTS notifications_fingerprint ON notifications (fingerprint, created_at)",
        ] {
            try await sql.raw(SQLQueryString(statement)).run()
        }
    }

    /// The console's columns of an alert's row, as `SET` assignments.
    private static func consoleColumns(_ alert: Alert) -> SQLQueryString {
        """
        severity = \(bind: alert.severity.rawValue), unit_id = \(bind: alert.subject.unitID), \
        active_since = \(bind: alert.activeSince.timeIntervalSince1970), resolved_at = \(bind: alert.resolvedAt?.timeIntervalSince1970)
        """
    }

    private var inTransaction = false
    private var waitingForTransaction: [CheckedContinuation<Void, Never>] = []

    /// One transaction at a time on the one connection: the actor is re-entered at every await,
    /// so the engine recording a step and the dispatcher marking a batch would otherwise nest.
    private func transaction(_ body: () async throws -> Void) async throws {
        while inTransaction { await withCheckedContinuation { waitingForTransaction.append($0) } }
        inTransaction = true
        defer {
            inTransaction = false
            if !waitingForTransaction.isEmpty { waitingForTransaction.removeFirst().resume() }
        }
        try await sql.raw("BEGIN IMMEDIATE").run()
        do {
            try await body()
            try await sql.raw("COMMIT").run()
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }

    /// A notification row: packed since version 7, JSON before.
    private func notification(packed: Data?, body: String) throws -> NTMAlerting.Notification {
        if let packed { return try AlertCodec.unpackNotification(packed) }
        return try decoder.decode(NTMAlerting.Notification.self, from: Data(body.utf8))
    }

    /// Alerts from rows selecting `packed` and `body`.
    private func decodeAlerts(_ query: SQLQueryString) async throws -> [Alert] {
        try await sql.raw(query).all().map { row in
            if let packed = try row.decode(column: "packed", as: Data?.self) { return try AlertCodec.unpack(packed) }
            return try decoder.decode(Alert.self, from: Data(try row.decode(column: "body", as: String.self).utf8))
        }
    }

    /// Pending and firing alerts.
    public func activeAlerts() async throws -> [Alert] {
        try await decodeAlerts("SELECT packed, body FROM alerts WHERE status <> 'resolved' ORDER BY fingerprint")
    }

    /// Every alert, resolved ones included (the last state of each fingerprint).
    public func allAlerts() async throws -> [Alert] {
        try await decodeAlerts("SELECT packed, body FROM alerts ORDER BY fingerprint")
    }

    /// Records one step of the tracker: alert states, transitions, notifications and, for each
    /// notification, a ledger row per destination. One transaction.
    public func record(_ step: AlertTracker.Step, destinations: @Sendable (NTMAlerting.Notification) -> [Destination]) async throws {
        guard !step.changed.isEmpty || !step.dropped.isEmpty || !step.notifications.isEmpty || !step.transitions.isEmpty else { return }
        // A national first cycle records 70,000 alerts and as many notifications, deliveries and
        // history rows: written a few hundred per statement, not one statement per row.
        // An alert changed twice in one step is written once, as it ended.
        var order: [String] = [], latest: [String: Alert] = [:]
        for alert in step.changed where latest.updateValue(alert, forKey: alert.fingerprint) == nil { order.append(alert.fingerprint) }
        let alerts = order.map { latest[$0]! }
        try await transaction {
            try await insertRows(alerts, into: "alerts (fingerprint, check_name, status, body, packed, severity, unit_id, active_since, resolved_at)", then: """
                ON CONFLICT (fingerprint) DO UPDATE SET check_name = excluded.check_name, status = excluded.status, body = excluded.body,
                    packed = excluded.packed, severity = excluded.severity, unit_id = excluded.unit_id,
                    active_since = excluded.active_since, resolved_at = excluded.resolved_at
                """) { alert in
                [alert.fingerprint, alert.check, alert.status.rawValue, "", Data(AlertCodec.pack(alert)), alert.severity.rawValue,
                 alert.subject.unitID, alert.activeSince.timeIntervalSince1970, alert.resolvedAt?.timeIntervalSince1970]
            }
            for fingerprint in step.dropped {
                try await sql.raw("DELETE FROM alerts WHERE fingerprint = \(bind: fingerprint)").run()
            }
            try await insertRows(step.transitions, into: "alert_history (fingerprint, at, from_status, to_status, severity, rule, subject_id, silenced_by)") {
                [$0.fingerprint, $0.at.timeIntervalSince1970, $0.from?.rawValue, $0.to?.rawValue, $0.severity.rawValue, $0.ruleID,
                 $0.subjectID, $0.silencedBy]
            }
            try await insertLedger(step.notifications, destinations: destinations)
        }
    }

    /// Notifications and, for each, a ledger row per destination (inside a transaction).
    private func insertLedger(_ notifications: [NTMAlerting.Notification],
                              destinations: (NTMAlerting.Notification) -> [Destination]) async throws {
        try await insertRows(notifications, into: "notifications (id, created_at, fingerprint, reason, body, packed)",
                             then: "ON CONFLICT (id) DO NOTHING") {
            [$0.id, $0.at.timeIntervalSince1970, $0.alert.fingerprint, $0.reason.rawValue, "", Data(AlertCodec.pack($0))]
        }
        // The ledger's clock is the wall clock of recording, not the evaluation instant: a
        // backfill (`--once --at` a past day) must not find its rows already too old to deliver.
        let recordedAt = Date().timeIntervalSince1970
        let rows = notifications.flatMap { notification in destinations(notification).map { (notification.id, $0) } }
        // A group's labels are encoded once per group, not per row (tens of thousands of rows share
        // a handful of groups after a national first cycle).
        var labelsText: [[String: String]: String] = [:]
        for (_, destination) in rows where labelsText[destination.groupLabels] == nil {
            labelsText[destination.groupLabels] = String(decoding: try encoder.encode(destination.groupLabels), as: UTF8.self)
        }
        try await insertRows(rows, into: "deliveries (notification_id, receiver, group_key, group_labels, created_at, next_attempt_at)",
                             then: "ON CONFLICT (notification_id, receiver) DO NOTHING") { [labelsText] id, destination in
            [id, destination.receiver, destination.groupKey, labelsText[destination.groupLabels]!, recordedAt, 0.0]
        }
    }

    /// Inserts rows a few hundred per statement (well under SQLite's 32,766 parameters).
    private func insertRows<Item>(_ items: [Item], into table: String, then conflict: String = "",
                                  _ values: (Item) throws -> [any Encodable & Sendable]) async throws {
        for start in stride(from: 0, to: items.count, by: 300) {
            var query = SQLQueryString("INSERT INTO \(unsafeRaw: table) VALUES ")
            for (index, item) in items[start..<min(start + 300, items.count)].enumerated() {
                query.appendLiteral(index == 0 ? "(" : ", (")
                for (position, value) in try values(item).enumerated() {
                    if position > 0 { query.appendLiteral(", ") }
                    query.appendInterpolation(SQLBind(value))
                }
                query.appendLiteral(")")
            }
            if !conflict.isEmpty { query.appendLiteral(" " + conflict) }
            try await sql.raw(query).run()
        }
    }

    /// Moves what a version-1 state file left in its outbox into the ledger.
    public func adoptLegacyOutbox(destinations: @Sendable (NTMAlerting.Notification) -> [Destination]) async throws -> Int {
        let rows = try await sql.raw("SELECT body FROM outbox ORDER BY created_at, id").all()
        guard !rows.isEmpty else { return 0 }
        let notifications = try rows.map {
            try decoder.decode(NTMAlerting.Notification.self, from: Data(try $0.decode(column: "body", as: String.self).utf8))
        }
        try await transaction {
            try await insertLedger(notifications, destinations: destinations)
            try await sql.raw("DELETE FROM outbox").run()
        }
        return notifications.count
    }

    // MARK: The ledger

    /// A pending ledger row with what the dispatcher needs to group, send and retry it.
    public struct PendingDelivery: Sendable {
        public var notification: NTMAlerting.Notification
        public var receiver: String
        public var groupKey: String
        public var groupLabels: [String: String]
        public var createdAt: Date
        public var batch: String?
        public var attempts: Int
        public var nextAttemptAt: Date
        public var groupLastFlush: Date?
    }

    /// The pending rows whose retry time has come, oldest first. A flush with nothing due costs one
    /// indexed count, not a decode of the whole ledger: the daemon asks every second.
    public func pendingDeliveries(dueAt now: Date = .distantFuture) async throws -> [PendingDelivery] {
        let cut = now.timeIntervalSince1970
        let due = try await sql.raw("""
            SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending' AND next_attempt_at <= \(bind: cut)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
        guard due > 0 else { return [] }
        let rows = try await sql.raw("""
            SELECT d.receiver, d.group_key, d.group_labels, d.created_at, d.batch, d.attempts, d.next_attempt_at,
                   n.packed, n.body, g.last_flush_at
            FROM deliveries d JOIN notifications n ON n.id = d.notification_id
            LEFT JOIN aggregation_groups g ON g.receiver = d.receiver AND g.group_key = d.group_key
            WHERE d.state = 'pending' AND d.next_attempt_at <= \(bind: cut) ORDER BY d.created_at, d.notification_id
            """).all()
        // A group's labels are the same text on each of its rows: decoded once per text (a JSON
        // decode per row was seconds of a national first cycle).
        var labelsByText: [String: [String: String]] = [:]
        return try rows.map { row in
            let labelsText = try row.decode(column: "group_labels", as: String.self)
            let groupLabels = try labelsByText[labelsText] ?? {
                let decoded = try decoder.decode([String: String].self, from: Data(labelsText.utf8))
                labelsByText[labelsText] = decoded
                return decoded
            }()
            return PendingDelivery(
                notification: try notification(packed: try row.decode(column: "packed", as: Data?.self),
                                               body: try row.decode(column: "body", as: String.self)),
                receiver: try row.decode(column: "receiver", as: String.self),
                groupKey: try row.decode(column: "group_key", as: String.self),
                groupLabels: groupLabels,
                createdAt: Date(timeIntervalSince1970: try row.decode(column: "created_at", as: Double.self)),
                batch: try row.decode(column: "batch", as: String?.self),
                attempts: try row.decode(column: "attempts", as: Int.self),
                nextAttemptAt: Date(timeIntervalSince1970: try row.decode(column: "next_attempt_at", as: Double.self)),
                groupLastFlush: try row.decode(column: "last_flush_at", as: Double?.self).map { Date(timeIntervalSince1970: $0) })
        }
    }

    public struct NewBatch: Sendable {
        public var id: String, receiver: String, groupKey: String, ids: [String]
        public init(id: String, receiver: String, groupKey: String, ids: [String]) {
            self.id = id
            self.receiver = receiver
            self.groupKey = groupKey
            self.ids = ids
        }
    }

    /// Fixes the composition of batches before they are sent, so that a crash re-sends exactly them.
    public func assignBatches(_ batches: [NewBatch], at now: Date) async throws {
        guard !batches.isEmpty else { return }
        try await transaction {
            for batch in batches {
                // A few hundred rows per statement: one UPDATE per notification was most of the
                // flush after a national first cycle (70,000 statements).
                for start in stride(from: 0, to: batch.ids.count, by: 500) {
                    var update = SQLQueryString("UPDATE deliveries SET batch = \(bind: batch.id) WHERE receiver = \(bind: batch.receiver) ")
                    update.appendLiteral("AND state = 'pending' AND notification_id IN (")
                    for (index, id) in batch.ids[start..<min(start + 500, batch.ids.count)].enumerated() {
                        if index > 0 { update.appendLiteral(", ") }
                        update.appendInterpolation(bind: id)
                    }
                    update.appendLiteral(")")
                    try await sql.raw(update).run()
                }
                try await sql.raw("""
                    INSERT INTO aggregation_groups (receiver, group_key, last_flush_at)
                    VALUES (\(bind: batch.receiver), \(bind: batch.groupKey), \(bind: now.timeIntervalSince1970))
                    ON CONFLICT (receiver, group_key) DO UPDATE SET last_flush_at = excluded.last_flush_at
                    """).run()
            }
        }
    }

    /// The receiver accepted the batch: its rows leave the ledger's pending state in one transaction.
    public func markDelivered(batch: String, receiver: String, at now: Date) async throws {
        try await transaction {
            try await sql.raw("""
                INSERT INTO delivery_history (notification_id, receiver, at, result, batch)
                SELECT notification_id, receiver, \(bind: now.timeIntervalSince1970), 'delivered', batch FROM deliveries
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending'
                """).run()
            try await sql.raw("""
                UPDATE deliveries SET state = 'delivered', delivered_at = \(bind: now.timeIntervalSince1970), last_error = NULL
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending'
                """).run()
        }
    }

    /// The attempt failed: the rows wait until `retryAt`; rows older than `deadBefore` become dead letters.
    public func markFailed(batch: String, receiver: String, error: String, retryAt: Date, deadBefore: Date, at now: Date) async throws -> Int {
        var died = 0
        try await transaction {
            try await sql.raw("""
                UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = \(bind: retryAt.timeIntervalSince1970),
                    last_error = \(bind: error)
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending'
                """).run()
            try await sql.raw("""
                INSERT INTO delivery_history (notification_id, receiver, at, result, batch, error)
                SELECT notification_id, receiver, \(bind: now.timeIntervalSince1970), 'failed', batch, \(bind: error) FROM deliveries
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending'
                """).run()
            let cut = deadBefore.timeIntervalSince1970
            died = try await sql.raw("""
                SELECT COUNT(*) AS n FROM deliveries
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending' AND created_at < \(bind: cut)
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            guard died > 0 else { return }
            try await sql.raw("""
                INSERT OR REPLACE INTO dead_letters (notification_id, receiver, group_key, created_at, died_at, attempts, last_error)
                SELECT notification_id, receiver, group_key, created_at, \(bind: now.timeIntervalSince1970), attempts, last_error
                FROM deliveries
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending' AND created_at < \(bind: cut)
                """).run()
            try await sql.raw("""
                INSERT INTO delivery_history (notification_id, receiver, at, result, batch, error)
                SELECT notification_id, receiver, \(bind: now.timeIntervalSince1970), 'dead', batch, last_error FROM deliveries
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending' AND created_at < \(bind: cut)
                """).run()
            try await sql.raw("""
                UPDATE deliveries SET state = 'dead'
                WHERE batch = \(bind: batch) AND receiver = \(bind: receiver) AND state = 'pending' AND created_at < \(bind: cut)
                """).run()
        }
        return died
    }

    /// Rows of receivers that are no longer configured cannot be delivered: they become dead
    /// letters at once (a route change never moves a notification already recorded).
    public func retireReceivers(keeping receivers: Set<String>, at now: Date) async throws -> Int {
        let pending = try await sql.raw("SELECT DISTINCT receiver FROM deliveries WHERE state = 'pending'").all()
            .map { try $0.decode(column: "receiver", as: String.self) }
        let gone = pending.filter { !receivers.contains($0) }
        guard !gone.isEmpty else { return 0 }
        var count = 0
        try await transaction {
            for receiver in gone {
                count += try await sql.raw("""
                    SELECT COUNT(*) AS n FROM deliveries WHERE receiver = \(bind: receiver) AND state = 'pending'
                    """).first()?.decode(column: "n", as: Int.self) ?? 0
                try await sql.raw("""
                    INSERT OR REPLACE INTO dead_letters (notification_id, receiver, group_key, created_at, died_at, attempts, last_error)
                    SELECT notification_id, receiver, group_key, created_at, \(bind: now.timeIntervalSince1970), attempts,
                        'the receiver is no longer configured' FROM deliveries WHERE receiver = \(bind: receiver) AND state = 'pending'
                    """).run()
                try await sql.raw("UPDATE deliveries SET state = 'dead' WHERE receiver = \(bind: receiver) AND state = 'pending'").run()
            }
        }
        return count
    }

    /// Receivers with dead letters since their last successful delivery: what
    /// `ntmwatch.delivery_failed` reports.
    public func failingReceivers() async throws -> [(receiver: String, deadLetters: Int, lastError: String)] {
        try await sql.raw("""
            SELECT l.receiver, COUNT(*) AS n, MAX(l.last_error) AS last_error FROM dead_letters l
            WHERE l.died_at > COALESCE((SELECT MAX(delivered_at) FROM deliveries d WHERE d.receiver = l.receiver AND d.state = 'delivered'), 0)
            GROUP BY l.receiver ORDER BY l.receiver
            """).all().map {
            (try $0.decode(column: "receiver", as: String.self), try $0.decode(column: "n", as: Int.self),
             try $0.decode(column: "last_error", as: String?.self) ?? "")
        }
    }

    /// Counts for `ntmwatch status` and the metrics.
    public func ledgerDepth() async throws -> (pending: Int, dead: Int) {
        let pending = try await sql.raw("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'").first()?.decode(column: "n", as: Int.self) ?? 0
        let dead = try await sql.raw("SELECT COUNT(*) AS n FROM dead_letters").first()?.decode(column: "n", as: Int.self) ?? 0
        return (pending, dead)
    }

    // MARK: The daemon's own state

    public struct CheckRun: Sendable, Hashable {
        public var check: String
        public var lastRunAt: Date
        public var duration: Double?
        /// `ok`, `failed`, `timed_out`.
        public var outcome: String
        public var reason: String?
        public var findings: Int?
        public var consecutiveFailures: Int
        public var lastSuccessAt: Date?
    }

    public func recordRun(check: String, at: Date, duration: Double?, outcome: String, reason: String?, findings: Int?) async throws {
        let ok = outcome == "ok"
        let success: Double? = ok ? at.timeIntervalSince1970 : nil
        try await transaction {
            try await sql.raw("""
                INSERT INTO check_runs (check_name, last_run_at, duration, outcome, reason, findings, consecutive_failures, last_success_at)
                VALUES (\(bind: check), \(bind: at.timeIntervalSince1970), \(bind: duration), \(bind: outcome), \(bind: reason),
                    \(bind: findings), \(bind: ok ? 0 : 1), \(bind: success))
                ON CONFLICT (check_name) DO UPDATE SET last_run_at = excluded.last_run_at, duration = excluded.duration,
                    outcome = excluded.outcome, reason = excluded.reason, findings = excluded.findings,
                    consecutive_failures = CASE WHEN excluded.outcome = 'ok' THEN 0 ELSE check_runs.consecutive_failures + 1 END,
                    last_success_at = COALESCE(excluded.last_success_at, check_runs.last_success_at)
                """).run()
        }
    }

    public func checkRuns() async throws -> [CheckRun] {
        try await sql.raw("SELECT * FROM check_runs ORDER BY check_name").all().map { row in
            CheckRun(
                check: try row.decode(column: "check_name", as: String.self),
                lastRunAt: Date(timeIntervalSince1970: try row.decode(column: "last_run_at", as: Double.self)),
                duration: try row.decode(column: "duration", as: Double?.self),
                outcome: try row.decode(column: "outcome", as: String.self),
                reason: try row.decode(column: "reason", as: String?.self),
                findings: try row.decode(column: "findings", as: Int?.self),
                consecutiveFailures: try row.decode(column: "consecutive_failures", as: Int.self),
                lastSuccessAt: try row.decode(column: "last_success_at", as: Double?.self).map { Date(timeIntervalSince1970: $0) })
        }
    }

    /// The running daemon says it is alive (every minute): `ntmwatch status` reads the age.
    public func heartbeat(at: Date, pid: Int32) async throws {
        let value = "\(at.timeIntervalSince1970) \(pid)"
        try await transaction {
            try await sql.raw("""
                INSERT INTO daemon (key, value) VALUES ('heartbeat', \(bind: value))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """).run()
        }
    }

    public func lastHeartbeat() async throws -> (at: Date, pid: Int32)? {
        guard let text = try await sql.raw("SELECT value FROM daemon WHERE key = 'heartbeat'").first()?.decode(column: "value", as: String.self)
        else { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let at = Double(parts[0]), let pid = Int32(parts[1]) else { return nil }
        return (Date(timeIntervalSince1970: at), pid)
    }

    // MARK: History

    public struct DeliveryEvent: Sendable, Hashable {
        public var notificationID: String
        public var receiver: String
        public var at: Date
        public var result: String
        public var batch: String?
        public var error: String?
    }

    public func transitions(of fingerprint: String? = nil, since: Date = .distantPast) async throws -> [AlertTracker.Transition] {
        let from = since.timeIntervalSince1970
        let query: SQLQueryString = fingerprint.map {
            "SELECT * FROM alert_history WHERE at >= \(bind: from) AND fingerprint = \(bind: $0) ORDER BY seq"
        } ?? "SELECT * FROM alert_history WHERE at >= \(bind: from) ORDER BY seq"
        return try await sql.raw(query).all().map { row in
            AlertTracker.Transition(
                fingerprint: try row.decode(column: "fingerprint", as: String.self),
                at: Date(timeIntervalSince1970: try row.decode(column: "at", as: Double.self)),
                from: try row.decode(column: "from_status", as: String?.self).flatMap(Alert.Status.init(rawValue:)),
                to: try row.decode(column: "to_status", as: String?.self).flatMap(Alert.Status.init(rawValue:)),
                severity: Severity(rawValue: try row.decode(column: "severity", as: String.self)) ?? .error,
                ruleID: try row.decode(column: "rule", as: String.self),
                subjectID: try row.decode(column: "subject_id", as: String.self),
                silencedBy: try row.decode(column: "silenced_by", as: String?.self))
        }
    }

    public func deliveryEvents(of notificationID: String? = nil) async throws -> [DeliveryEvent] {
        let query: SQLQueryString = notificationID.map {
            "SELECT * FROM delivery_history WHERE notification_id = \(bind: $0) ORDER BY seq"
        } ?? "SELECT * FROM delivery_history ORDER BY seq"
        return try await sql.raw(query).all().map { row in
            DeliveryEvent(
                notificationID: try row.decode(column: "notification_id", as: String.self),
                receiver: try row.decode(column: "receiver", as: String.self),
                at: Date(timeIntervalSince1970: try row.decode(column: "at", as: Double.self)),
                result: try row.decode(column: "result", as: String.self),
                batch: try row.decode(column: "batch", as: String?.self),
                error: try row.decode(column: "error", as: String?.self))
        }
    }

    /// Every notification recorded, oldest first (the history; delivered ones too).
    public func notifications(since: Date = .distantPast) async throws -> [NTMAlerting.Notification] {
        try await sql.raw("SELECT packed, body FROM notifications WHERE created_at >= \(bind: since.timeIntervalSince1970) ORDER BY created_at, id").all().map {
            try notification(packed: try $0.decode(column: "packed", as: Data?.self), body: try $0.decode(column: "body", as: String.self))
        }
    }

    /// Drops history and finished ledger rows older than `retention`; pending rows never. The alert
    /// history is dated by evaluation instants, so its age counts back from its newest entry when
    /// that is behind the wall clock: a backfill or a run `--at` a past day would otherwise lose its
    /// history at the next flush, and the digests built from it would show nothing new and nothing
    /// resolved.
    public func prune(keeping retention: Duration, now: Date) async throws {
        let cut = now.timeIntervalSince1970 - retention.seconds
        try await transaction {
            try await sql.raw("""
                DELETE FROM alert_history
                WHERE at < MIN(\(bind: cut), (SELECT MAX(at) FROM alert_history) - \(bind: retention.seconds))
                """).run()
            try await sql.raw("DELETE FROM delivery_history WHERE at < \(bind: cut)").run()
            try await sql.raw("DELETE FROM dead_letters WHERE died_at < \(bind: cut)").run()
            try await sql.raw("DELETE FROM deliveries WHERE state <> 'pending' AND created_at < \(bind: cut)").run()
            try await sql.raw("""
                DELETE FROM notifications WHERE created_at < \(bind: cut)
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)
                """).run()
        }
    }

    // MARK: Silences

    /// Every stored silence, expired ones included, by start.
    public func silences() async throws -> [Silence] {
        try await sql.raw("SELECT id, body FROM silences ORDER BY starts_at, id").all().map { row in
            let id = try row.decode(column: "id", as: String.self)
            let stored = try decoder.decode(AlertmanagerSilence.self, from: Data(try row.decode(column: "body", as: String.self).utf8))
            return try stored.silence(position: "\(path): silence \(id)")
        }
    }

    /// Adds or replaces silences (by id) in one transaction.
    public func save(_ silences: [Silence]) async throws {
        try await transaction {
            for silence in silences {
                var stored = AlertmanagerSilence(silence, at: silence.updatedAt)
                stored.status = nil
                let body = String(decoding: try encoder.encode(stored), as: UTF8.self)
                try await sql.raw("""
                    INSERT INTO silences (id, starts_at, ends_at, body)
                    VALUES (\(bind: silence.id), \(bind: silence.startsAt.timeIntervalSince1970),
                        \(bind: silence.endsAt.timeIntervalSince1970), \(bind: body))
                    ON CONFLICT (id) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, body = excluded.body
                    """).run()
            }
        }
    }

    // MARK: Digests

    /// Whether the digest of the period ending at `periodEnd` is to be sent now: not when it was
    /// sent already, nor when a later period's was (a backfill never sends an older period's).
    /// A claimed period whose send failed or was interrupted is claimed again.
    public func claimDigest(receiver: String, periodEnd: Date, at now: Date) async throws -> Bool {
        var claimed = false
        try await transaction {
            let end = periodEnd.timeIntervalSince1970
            let row = try await sql.raw("""
                SELECT MAX(period_end) AS latest,
                    MAX(CASE WHEN period_end = \(bind: end) THEN 1 ELSE 0 END) AS known,
                    MAX(CASE WHEN period_end = \(bind: end) AND sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent
                FROM digests WHERE receiver = \(bind: receiver)
                """).first()
            let latest = try row?.decode(column: "latest", as: Double?.self)
            if try row?.decode(column: "sent", as: Int?.self) == 1 { return }
            if try row?.decode(column: "known", as: Int?.self) == 1 { claimed = true; return }
            if let latest, latest > end { return }
            try await sql.raw("""
                INSERT INTO digests (receiver, period_end, claimed_at) VALUES (\(bind: receiver), \(bind: end), \(bind: now.timeIntervalSince1970))
                """).run()
            claimed = true
        }
        return claimed
    }

    public func markDigestSent(receiver: String, periodEnd: Date, at now: Date) async throws {
        try await sql.raw("""
            UPDATE digests SET sent_at = \(bind: now.timeIntervalSince1970)
            WHERE receiver = \(bind: receiver) AND period_end = \(bind: periodEnd.timeIntervalSince1970)
            """).run()
    }

    /// The end of the last period whose digest was sent before `periodEnd`: the next digest's "new since".
    public func lastDigest(receiver: String, before periodEnd: Date) async throws -> Date? {
        try await sql.raw("""
            SELECT MAX(period_end) AS latest FROM digests
            WHERE receiver = \(bind: receiver) AND sent_at IS NOT NULL AND period_end < \(bind: periodEnd.timeIntervalSince1970)
            """).first()?.decode(column: "latest", as: Double?.self).map { Date(timeIntervalSince1970: $0) }
    }

    /// Every digest sent, oldest first: (receiver, period end).
    public func sentDigests() async throws -> [(receiver: String, periodEnd: Date)] {
        try await sql.raw("SELECT receiver, period_end FROM digests WHERE sent_at IS NOT NULL ORDER BY period_end, receiver").all().map {
            (try $0.decode(column: "receiver", as: String.self), Date(timeIntervalSince1970: try $0.decode(column: "period_end", as: Double.self)))
        }
    }

    // MARK: The console's reads

    /// An alert as the console counts and places it: its row's console columns, nothing decoded.
    public struct IndexedAlert: Sendable, Hashable {
        public var fingerprint: String
        public var status: Alert.Status
        public var severity: Severity
        public var unitID: String?
        public var activeSince: Date
    }

    /// Pending and firing alerts, from the covering index of their console columns.
    public func openAlertIndex() async throws -> [IndexedAlert] {
        try await connection.query("""
            SELECT fingerprint, status, severity, unit_id, active_since FROM alerts WHERE status <> 'resolved'
            """).map { row in
            IndexedAlert(fingerprint: row.column("fingerprint")?.string ?? "",
                         status: row.column("status")?.string.flatMap(Alert.Status.init(rawValue:)) ?? .firing,
                         severity: row.column("severity")?.string.flatMap(Severity.init(rawValue:)) ?? .error,
                         unitID: row.column("unit_id")?.string,
                         activeSince: Date(timeIntervalSince1970: row.column("active_since")?.double ?? 0))
        }
    }

    /// The alerts of these fingerprints (those still stored), by fingerprint.
    public func alerts(fingerprints: [String]) async throws -> [Alert] {
        guard !fingerprints.isEmpty else { return [] }
        let list = String(decoding: try encoder.encode(fingerprints), as: UTF8.self)
        return try await decodeAlerts("""
            SELECT packed, body FROM alerts WHERE fingerprint IN (SELECT value FROM json_each(\(bind: list))) ORDER BY fingerprint
            """)
    }

    public func alert(fingerprint: String) async throws -> Alert? {
        try await alerts(fingerprints: [fingerprint]).first
    }

    /// Moves whenever an alert is written or dropped, or the history grows or is pruned; not with
    /// the heartbeat, the ledger or check runs. What the console's cached overview is keyed by.
    public struct ChangeMark: Sendable, Hashable {
        public var alertChanges: Int64
        public var firstHistory: Int64?
        public var lastHistory: Int64?
    }

    public func changeMark() async throws -> ChangeMark {
        let row = try await connection.query("""
            SELECT (SELECT count FROM alert_changes WHERE id = 1) AS changes, (SELECT MIN(seq) FROM alert_history) AS first,
                (SELECT MAX(seq) FROM alert_history) AS last
            """).first
        return ChangeMark(alertChanges: row?.column("changes")?.integer.map(Int64.init) ?? 0,
                          firstHistory: row?.column("first")?.integer.map(Int64.init),
                          lastHistory: row?.column("last")?.integer.map(Int64.init))
    }

    /// An alert opening or closing, with its alert's unit (nil once the alert is dropped).
    public struct Opening: Sendable, Hashable {
        public var fingerprint: String
        public var at: Date
        public var opens: Bool
        public var unitID: String?
    }

    /// The transitions since `start` as openings and closings, oldest first, after the stored
    /// alerts already open at `start` (active before it, not resolved before it) as openings at
    /// `start`: the overview's trend.
    public func openings(since start: Date) async throws -> [Opening] {
        let from = start.timeIntervalSince1970
        let open = try await connection.query("""
            SELECT fingerprint, unit_id FROM alerts WHERE active_since < ? AND (resolved_at IS NULL OR resolved_at >= ?)
            """, [.float(from), .float(from)]).map {
            Opening(fingerprint: $0.column("fingerprint")?.string ?? "", at: start, opens: true, unitID: $0.column("unit_id")?.string)
        }
        return open + (try await connection.query("""
            SELECT h.fingerprint, h.at, h.to_status, a.unit_id FROM alert_history h LEFT JOIN alerts a ON a.fingerprint = h.fingerprint
            WHERE h.at >= ? ORDER BY h.seq
            """, [.float(from)]).map { row in
            let to = row.column("to_status")?.string
            return Opening(fingerprint: row.column("fingerprint")?.string ?? "", at: Date(timeIntervalSince1970: row.column("at")?.double ?? 0),
                           opens: to == Alert.Status.firing.rawValue || to == Alert.Status.pending.rawValue, unitID: row.column("unit_id")?.string)
        })
    }

    /// The notifications of one alert, oldest first.
    public func notifications(of fingerprint: String) async throws -> [NTMAlerting.Notification] {
        try await connection.query("SELECT packed, body FROM notifications WHERE fingerprint = ? ORDER BY created_at, id", [.text(fingerprint)]).map {
            try notification(packed: $0.column("packed")?.blob.map { Data($0.readableBytesView) }, body: $0.column("body")?.string ?? "")
        }
    }

    public func close() async {
        try? await connection.close()
    }

    /// Runs `body` with this state and closes it afterwards, whether or not `body` throws: the
    /// commands and the console open the state for one piece of work.
    public nonisolated func closing<T>(after body: (AlertStateStore) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }
}
