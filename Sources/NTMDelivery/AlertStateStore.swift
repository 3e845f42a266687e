import CheckKit
import Foundation
import NTMAlerting
import NTMSQLite

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
    /// nil once closed.
    private var file: StateDatabase?
    /// The daemon's store checkpoints the log on a connection of its own (``Checkpointer``);
    /// nil for a read-only store.
    private var checkpointer: Checkpointer?
    private let executor: QueueExecutor
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()
    /// The file's message templates and words (``MessageTable``), as far as this store has read or written them.
    private var messages = MessageTable()
    public nonisolated let path: String

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private var database: StateDatabase {
        get throws {
            guard let file else { throw Closed(path: path) }
            return file
        }
    }

    /// 8: no table changed, but alerts are packed in AlertCodec's format 2 (an alert keeps its
    /// template), which an ntmwatch of version 7 cannot read: it refuses the file at open instead
    /// of failing on the first alert.
    /// 9: `alert_changes` is counted by ``record(_:destinations:)`` once per step, not by a trigger
    /// per row: a trigger program ran for each of a national first cycle's 70,000 alert rows, a
    /// fifth to a third of their inserts' time. An ntmwatch of version 8 would not count them.
    /// 10: `messages`: each message template once, which alerts packed in AlertCodec's format 3
    /// name by number (a third of a national first cycle's bytes were templates repeated in every
    /// alert and notification). An ntmwatch of version 9 could not read those alerts.
    /// 11: `deliveries_batch`, the rows of the batches under way: marking a batch sent or failed
    /// went through every pending row of the ledger, once per batch (22 batches of a national first
    /// cycle, 61,100 rows: a third of its delivery).
    /// 12: `words`: the words a state repeats (ids, label names, severities), which alerts packed
    /// in AlertCodec's format 4 name by number (a third of a national first cycle's alert and
    /// notification bytes). An ntmwatch of version 11 could not read those alerts.
    static let schemaVersion = 12

    /// The store was used after ``close()``: a defect of the caller.
    public struct Closed: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path) was used after it was closed" }
    }

    public struct NewerSchema: Error, CustomStringConvertible {
        public let path: String, version: Int
        public var description: String {
            "\(path) was written by a newer ntmwatch (state schema \(version), this one knows \(AlertStateStore.schemaVersion)); upgrade ntmwatch or use another state_directory"
        }
    }

    /// The size a write-ahead log is cut back to once checkpointed. Without a limit SQLite keeps
    /// the file at its largest: a national first cycle left a 1 GB `alerts.sqlite-wal` behind.
    public static let walSizeLimit = 64 << 20

    /// Opens (and creates or upgrades) the state file for the daemon.
    public static func open(directory: String, walSizeLimit: Int = walSizeLimit) async throws -> AlertStateStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("alerts.sqlite")
        let store = try AlertStateStore(path: path, flags: [.readWrite, .create])
        try await store.prepare(walSizeLimit: walSizeLimit)
        return store
    }

    /// Opens the state file for reading only (`ntmwatch alerts`, reports): nothing is created,
    /// migrated or written, and it works while the daemon runs and on a read-only folder.
    public static func openReadOnly(directory: String) async throws -> AlertStateStore? {
        let path = (directory as NSString).appendingPathComponent("alerts.sqlite")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let store = try AlertStateStore(path: path, flags: [.readWrite])
        try await store.queryOnly()
        return store
    }

    private init(path: String, flags: SQLite3Connection.OpenFlags) throws {
        file = try StateDatabase(path: path, flags: flags)
        executor = QueueExecutor(label: "ntmwatch.state")
        self.path = path
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.encoder = encoder
    }

    private func queryOnly() throws {
        try database.connection.execute("PRAGMA query_only = ON")
        messages = try database.messages()
    }

    private func prepare(walSizeLimit: Int) throws {
        try database.connection.execute("PRAGMA journal_mode = WAL")
        try database.connection.execute("PRAGMA synchronous = FULL")
        try database.connection.execute("PRAGMA journal_size_limit = \(walSizeLimit)")
        // A national first cycle writes 70,000 alerts, their notifications and ledger rows in one
        // transaction, into indexes keyed by hashes (every page of them touched). With SQLite's
        // default 2 MiB cache, pages were spilled to the log and read back over and over: 955,000
        // writes and 348,000 reads, against 428,000 and 141,000 with this cache, and 13% less CPU.
        // The cache fills only as far as a transaction needs; `releaseMemory()` empties it when
        // the daemon is idle.
        try database.connection.execute("PRAGMA cache_size = -65536")
        let version = try database.integer("PRAGMA user_version") ?? 0
        if version > Self.schemaVersion { throw NewerSchema(path: path, version: version) }
        if version < Self.schemaVersion { try migrate() }
        messages = try database.messages()
        let checkpointer = try Checkpointer(path: path)
        try database.connection.setWALHook { checkpointer.committed(frames: $0) }
        self.checkpointer = checkpointer
    }

    /// Returns once a checkpoint of the log started before the call has ended (tests).
    func waitForCheckpoint() {
        checkpointer?.wait()
    }

    private func migrate() throws {
        try database.transaction {
            for statement in Self.schema { try database.connection.execute(statement) }
            // Version 4 records what muted an alert in its history.
            if !(try database.columns(of: "alert_history")).contains("silenced_by") {
                try database.connection.execute("ALTER TABLE alert_history ADD COLUMN silenced_by TEXT")
            }
            // Version 5 keeps alerts in AlertCodec's packed form; `body` (JSON) stays for rows
            // written before, and is read when `packed` is NULL.
            if !(try database.columns(of: "alerts")).contains("packed") {
                try database.connection.execute("ALTER TABLE alerts ADD COLUMN packed BLOB")
            }
            try addConsoleColumns()
            for trigger in ["alerts_inserted", "alerts_updated", "alerts_deleted"] {
                try database.connection.execute("DROP TRIGGER IF EXISTS \(trigger)")
            }
            // Version 7 keeps notifications packed too: the ledger's rows carry their alert, and
            // a national first cycle spent a third of its time encoding and decoding them as JSON.
            if !(try database.columns(of: "notifications")).contains("packed") {
                try database.connection.execute("ALTER TABLE notifications ADD COLUMN packed BLOB")
            }
            try database.connection.execute("PRAGMA user_version = \(Self.schemaVersion)")
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
        // Version 10: message templates, numbered from 0 in the order first written; never changed or removed.
        "CREATE TABLE IF NOT EXISTS messages (number INTEGER PRIMARY KEY, vi TEXT NOT NULL, en TEXT NOT NULL)",
        // Version 11: a row enters when its batch is fixed and leaves when it is delivered or dead.
        "CREATE INDEX IF NOT EXISTS deliveries_batch ON deliveries (batch, receiver) WHERE batch IS NOT NULL AND state = 'pending'",
        // Version 12: words, numbered from 0 in the order first written; never changed or removed.
        "CREATE TABLE IF NOT EXISTS words (number INTEGER PRIMARY KEY, text TEXT NOT NULL)",
    ]

    /// Version 6: the console. Its pages count and place tens of thousands of open alerts;
    /// decoding each per request took seconds at national scale (issue 19). The alerts' rows carry
    /// what the pages select on (severity, unit, since, resolved), written with the alert, under a
    /// covering index of the open ones; `alert_changes` counts the alerts' writes, which
    /// the cached overview is keyed by: the heartbeat and the ledger change the file every minute,
    /// the alerts far less often.
    private func addConsoleColumns() throws {
        guard !(try database.columns(of: "alerts")).contains("unit_id") else { return }
        for column in ["severity TEXT", "unit_id TEXT", "active_since REAL", "resolved_at REAL"] {
            try database.connection.execute("ALTER TABLE alerts ADD COLUMN \(column)")
        }
        for alert in try decodeAlerts("SELECT packed, body FROM alerts") {
            try database.run("""
                UPDATE alerts SET severity = ?, unit_id = ?, active_since = ?, resolved_at = ? WHERE fingerprint = ?
                """, [.text(alert.severity.rawValue), .of(alert.subject.unitID), .real(alert.activeSince.timeIntervalSince1970),
                      .of(alert.resolvedAt?.timeIntervalSince1970), .text(alert.fingerprint)])
        }
        for statement in [
            """
            CREATE INDEX IF NOT EXISTS alerts_open ON alerts (status, fingerprint, severity, unit_id, active_since)
            WHERE status <> 'resolved'
            """,
            "CREATE TABLE IF NOT EXISTS alert_changes (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL)",
            "INSERT OR IGNORE INTO alert_changes (id, count) VALUES (1, 0)",
            "CREATE INDEX IF NOT EXISTS alert_history_at ON alert_history (at)",
            "CREATE INDEX IF NOT EXISTS notifications_fingerprint ON notifications (fingerprint, created_at)",
        ] {
            try database.connection.execute(statement)
        }
    }

    /// A notification row: packed since version 7, JSON before.
    private func notification(packed: [UInt8]?, body: String) throws -> NTMAlerting.Notification {
        if let packed { return try AlertCodec.unpackNotification(packed, messages: messages) }
        return try decoder.decode(NTMAlerting.Notification.self, from: Data(body.utf8))
    }

    /// Notifications from a query whose first two columns are `packed` and `body`.
    private func decodeNotifications(_ query: String, _ binds: [SQLite3Value] = []) throws -> [NTMAlerting.Notification] {
        try readingMessages { try database.rows(query, binds) { try notification(packed: $0.optionalBlob(0), body: $0.text(1)) } }
    }

    /// Alerts from a query whose first two columns are `packed` and `body`.
    private func decodeAlerts(_ query: String, _ binds: [SQLite3Value] = []) throws -> [Alert] {
        try readingMessages {
            try database.rows(query, binds) { row in
                if let packed = row.optionalBlob(0) { return try AlertCodec.unpack(packed, messages: messages) }
                return try decoder.decode(Alert.self, from: Data(row.text(1).utf8))
            }
        }
    }

    /// Runs `read` again, once, after reading the message table anew when a row names a template
    /// or word written since this store read it (by the daemon, when this store reads for `ntmwatch`).
    private func readingMessages<T>(_ read: () throws -> T) throws -> T {
        do {
            return try read()
        } catch let error as AlertCodec.Corrupt where error.missingEntry != nil {
            messages = try database.messages()
            return try read()
        }
    }

    /// Pending and firing alerts.
    public func activeAlerts() throws -> [Alert] {
        try decodeAlerts("SELECT packed, body FROM alerts WHERE status <> 'resolved' ORDER BY fingerprint")
    }

    /// Pending and firing alerts as the tracker keeps them: each decoded and let go at once, so
    /// a start never holds every open alert whole.
    public func trackedAlerts() throws -> [TrackedAlert] {
        try readingMessages {
            var origins = OriginTable()
            return try database.rows("SELECT packed, body FROM alerts WHERE status <> 'resolved' ORDER BY fingerprint") { row in
                if let tracked = try row.withBlob(0, { packed in try AlertCodec.tracked(packed, origins: &origins, messages: messages) }) {
                    return tracked
                }
                return TrackedAlert(try decoder.decode(Alert.self, from: Data(row.text(1).utf8)), origins: &origins)
            }
        }
    }

    /// A reader of single alerts as last recorded, on a connection of its own: the tracker asks
    /// it, synchronously, for the alerts a step needs whole (see ``AlertTracker/Stored``).
    public nonisolated func storedAlerts() throws -> StoredAlerts {
        try StoredAlerts(path: path)
    }

    /// Every alert, resolved ones included (the last state of each fingerprint).
    public func allAlerts() throws -> [Alert] {
        try decodeAlerts("SELECT packed, body FROM alerts ORDER BY fingerprint")
    }

    /// Records one step of the tracker: alert states, transitions, notifications and, for each
    /// notification, a ledger row per destination. One transaction.
    public func record(_ step: AlertTracker.Step, destinations: @escaping @Sendable (NTMAlerting.Notification) -> [Destination]) throws {
        guard !step.changed.isEmpty || !step.dropped.isEmpty || !step.notifications.isEmpty || !step.transitions.isEmpty else { return }
        let rows = StepRows(alerts: step.changed, notifications: step.notifications)
        let messages = try database.transaction {
            let messages = try write(rows, destinations: destinations)
            for fingerprint in step.dropped {
                try database.run("DELETE FROM alerts WHERE fingerprint = ?", [.text(fingerprint)])
            }
            if !rows.alerts.isEmpty || !step.dropped.isEmpty {
                try database.run("UPDATE alert_changes SET count = count + ? WHERE id = 1",
                                 [.integer(Int64(rows.alerts.count + step.dropped.count))])
            }
            try database.insert("INSERT INTO alert_history (fingerprint, at, from_status, to_status, severity, rule, subject_id, silenced_by)",
                                values: "(?, ?, ?, ?, ?, ?, ?, ?)", rows: step.transitions.lazy.map { transition in
                [.text(transition.fingerprint), .real(transition.at.timeIntervalSince1970), .of(transition.from?.rawValue),
                 .of(transition.to?.rawValue), .text(transition.severity.rawValue), .text(transition.ruleID),
                 .text(transition.subjectID), .of(transition.silencedBy)]
            })
            return messages
        }
        // The templates and words the step added are the file's only once committed.
        self.messages = messages
    }

    /// Alerts, notifications and their ledger rows (inside a transaction), prepared on another
    /// thread a slice ahead of the writing (``StepRows``). Returns the message table with the
    /// templates and words the rows added, to be taken once the transaction commits.
    private func write(_ rows: StepRows, destinations: @escaping @Sendable (NTMAlerting.Notification) -> [Destination]) throws -> MessageTable {
        // The ledger's clock is the wall clock of recording, not the evaluation instant: a
        // backfill (`--once --at` a past day) must not find its rows already too old to deliver.
        let database = try database
        return try rows.pipelined(messages: messages, destinations: destinations, recordedAt: Date().timeIntervalSince1970) { slice in
            try database.insert("INSERT INTO messages (number, vi, en)", values: "(?, ?, ?)", rows: slice.messages)
            try database.insert("INSERT INTO words (number, text)", values: "(?, ?)", rows: slice.words)
            try database.insert("INSERT INTO alerts (fingerprint, check_name, status, body, packed, severity, unit_id, active_since, resolved_at)",
                                values: "(?, ?, ?, '', ?, ?, ?, ?, ?)", """
                                    ON CONFLICT (fingerprint) DO UPDATE SET check_name = excluded.check_name, status = excluded.status,
                                        body = excluded.body, packed = excluded.packed, severity = excluded.severity,
                                        unit_id = excluded.unit_id, active_since = excluded.active_since, resolved_at = excluded.resolved_at
                                    """, rows: slice.alerts)
            try database.insert("INSERT INTO notifications (id, created_at, fingerprint, reason, body, packed)",
                                values: "(?, ?, ?, ?, '', ?)", "ON CONFLICT (id) DO NOTHING", rows: slice.notifications)
            try database.insert("INSERT INTO deliveries (notification_id, receiver, group_key, group_labels, created_at, next_attempt_at)",
                                values: "(?, ?, ?, ?, ?, 0)", "ON CONFLICT (notification_id, receiver) DO NOTHING", rows: slice.deliveries)
        }
    }

    /// Moves what a version-1 state file left in its outbox into the ledger.
    public func adoptLegacyOutbox(destinations: @escaping @Sendable (NTMAlerting.Notification) -> [Destination]) throws -> Int {
        let notifications = try database.rows("SELECT body FROM outbox ORDER BY created_at, id") {
            try decoder.decode(NTMAlerting.Notification.self, from: Data($0.text(0).utf8))
        }
        guard !notifications.isEmpty else { return 0 }
        messages = try database.transaction {
            let messages = try write(StepRows(alerts: [], notifications: notifications), destinations: destinations)
            try database.run("DELETE FROM outbox")
            return messages
        }
        return notifications.count
    }

    // MARK: The ledger

    /// A pending ledger row with what the dispatcher needs to group, send and retry it; its
    /// notification is read when its receiver's notifier asks (``notifications(ids:)``).
    public struct PendingDelivery: Sendable {
        public var entry: NotificationGroup.Entry
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
    public func pendingDeliveries(dueAt now: Date = .distantFuture) throws -> [PendingDelivery] {
        let cut = SQLite3Value.real(now.timeIntervalSince1970)
        let due = try database.integer("SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?", [cut]) ?? 0
        guard due > 0 else { return [] }
        // A group's labels are the same text on each of its rows: decoded once per text (a JSON
        // decode per row was seconds of a national first cycle).
        var labelsByText: [String: [String: String]] = [:]
        // Sorted here, not by an ORDER BY: SQLite sorted the whole rows in a temporary file.
        return try database.rows("""
            SELECT d.receiver, d.group_key, d.group_labels, d.created_at, d.batch, d.attempts, d.next_attempt_at,
                   n.id, n.created_at, n.fingerprint, g.last_flush_at
            FROM deliveries d JOIN notifications n ON n.id = d.notification_id
            LEFT JOIN aggregation_groups g ON g.receiver = d.receiver AND g.group_key = d.group_key
            WHERE d.state = 'pending' AND d.next_attempt_at <= ?
            """, [cut]) { row in
            let labelsText = row.text(2)
            let groupLabels = try labelsByText[labelsText] ?? {
                let decoded = try decoder.decode([String: String].self, from: Data(labelsText.utf8))
                labelsByText[labelsText] = decoded
                return decoded
            }()
            return PendingDelivery(
                entry: NotificationGroup.Entry(id: row.text(7), at: Date(timeIntervalSince1970: row.double(8)), fingerprint: row.text(9)),
                receiver: row.text(0), groupKey: row.text(1), groupLabels: groupLabels,
                createdAt: Date(timeIntervalSince1970: row.double(3)), batch: row.optionalText(4), attempts: row.integer(5),
                nextAttemptAt: Date(timeIntervalSince1970: row.double(6)),
                groupLastFlush: row.optionalDouble(10).map { Date(timeIntervalSince1970: $0) })
        }.sorted { ($0.createdAt, $0.entry.id) < ($1.createdAt, $1.entry.id) }
    }

    /// A pending row's notification is gone from the state file (it never is, short of a hand edit).
    public struct MissingNotification: Error, CustomStringConvertible {
        public let id: String
        public var description: String { "notification \(id) is in the delivery ledger but not in the state file" }
    }

    /// The notifications of these ids, in their order.
    public func notifications(ids: [String]) throws -> [NTMAlerting.Notification] {
        try ids.map { id in
            guard let found = try decodeNotifications("SELECT packed, body FROM notifications WHERE id = ?", [.text(id)]).first else {
                throw MissingNotification(id: id)
            }
            return found
        }
    }

    /// Gives back the page cache a large transaction filled (see `prepare`).
    public func releaseMemory() {
        file?.connection.releaseMemory()
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
    public func assignBatches(_ batches: [NewBatch], at now: Date) throws {
        guard !batches.isEmpty else { return }
        try database.transaction {
            for batch in batches {
                // One statement per batch, its ids as a JSON array: a statement per row was most of
                // this transaction for the 61,100 rows of a national first cycle. `+state` keeps
                // SQLite on the primary key: through deliveries_pending it went over every pending row.
                try database.run(LedgerSQL.assignBatch,
                                 [.text(batch.id), .text(String(decoding: try encoder.encode(batch.ids), as: UTF8.self)), .text(batch.receiver)])
                try database.run("""
                    INSERT INTO aggregation_groups (receiver, group_key, last_flush_at) VALUES (?, ?, ?)
                    ON CONFLICT (receiver, group_key) DO UPDATE SET last_flush_at = excluded.last_flush_at
                    """, [.text(batch.receiver), .text(batch.groupKey), .real(now.timeIntervalSince1970)])
            }
        }
    }

    /// The receiver accepted the batch: its rows leave the ledger's pending state in one transaction.
    public func markDelivered(batch: String, receiver: String, at now: Date) throws {
        let (batch, receiver, now) = (SQLite3Value.text(batch), SQLite3Value.text(receiver), SQLite3Value.real(now.timeIntervalSince1970))
        try database.transaction {
            try database.run("""
                INSERT INTO delivery_history (notification_id, receiver, at, result, batch)
                SELECT notification_id, receiver, ?, 'delivered', batch FROM deliveries
                WHERE batch = ? AND receiver = ? AND state = 'pending'
                """, [now, batch, receiver])
            try database.run(LedgerSQL.markDelivered, [now, batch, receiver])
        }
    }

    /// The attempt failed: the rows wait until `retryAt`; rows older than `deadBefore` become dead letters.
    public func markFailed(batch: String, receiver: String, error: String, retryAt: Date, deadBefore: Date, at now: Date) throws -> Int {
        let (batch, receiver, now) = (SQLite3Value.text(batch), SQLite3Value.text(receiver), SQLite3Value.real(now.timeIntervalSince1970))
        let (error, cut) = (SQLite3Value.text(error), SQLite3Value.real(deadBefore.timeIntervalSince1970))
        return try database.transaction {
            try database.run("""
                UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
                WHERE batch = ? AND receiver = ? AND state = 'pending'
                """, [.real(retryAt.timeIntervalSince1970), error, batch, receiver])
            try database.run("""
                INSERT INTO delivery_history (notification_id, receiver, at, result, batch, error)
                SELECT notification_id, receiver, ?, 'failed', batch, ? FROM deliveries
                WHERE batch = ? AND receiver = ? AND state = 'pending'
                """, [now, error, batch, receiver])
            let died = try database.integer(LedgerSQL.countDying, [batch, receiver, cut]) ?? 0
            guard died > 0 else { return 0 }
            try database.run("""
                INSERT OR REPLACE INTO dead_letters (notification_id, receiver, group_key, created_at, died_at, attempts, last_error)
                SELECT notification_id, receiver, group_key, created_at, ?, attempts, last_error FROM deliveries
                WHERE batch = ? AND receiver = ? AND state = 'pending' AND created_at < ?
                """, [now, batch, receiver, cut])
            try database.run("""
                INSERT INTO delivery_history (notification_id, receiver, at, result, batch, error)
                SELECT notification_id, receiver, ?, 'dead', batch, last_error FROM deliveries
                WHERE batch = ? AND receiver = ? AND state = 'pending' AND created_at < ?
                """, [now, batch, receiver, cut])
            try database.run("""
                UPDATE deliveries SET state = 'dead' WHERE batch = ? AND receiver = ? AND state = 'pending' AND created_at < ?
                """, [batch, receiver, cut])
            return died
        }
    }

    /// Statements of the ledger whose query plans a test reads: each finds a batch's rows by an
    /// index, never by going through every pending row (issue 21).
    enum LedgerSQL {
        static let assignBatch = """
            UPDATE deliveries SET batch = ?
            WHERE notification_id IN (SELECT value FROM json_each(?)) AND receiver = ? AND +state = 'pending'
            """
        static let markDelivered = """
            UPDATE deliveries SET state = 'delivered', delivered_at = ?, last_error = NULL
            WHERE batch = ? AND receiver = ? AND state = 'pending'
            """
        static let countDying = "SELECT COUNT(*) FROM deliveries WHERE batch = ? AND receiver = ? AND state = 'pending' AND created_at < ?"
    }

    /// Rows of receivers that are no longer configured cannot be delivered: they become dead
    /// letters at once (a route change never moves a notification already recorded).
    public func retireReceivers(keeping receivers: Set<String>, at now: Date) throws -> Int {
        let gone = try database.rows("SELECT DISTINCT receiver FROM deliveries WHERE state = 'pending'") { $0.text(0) }
            .filter { !receivers.contains($0) }
        guard !gone.isEmpty else { return 0 }
        return try database.transaction {
            var count = 0
            for receiver in gone.map(SQLite3Value.text) {
                count += try database.integer("SELECT COUNT(*) FROM deliveries WHERE receiver = ? AND state = 'pending'", [receiver]) ?? 0
                try database.run("""
                    INSERT OR REPLACE INTO dead_letters (notification_id, receiver, group_key, created_at, died_at, attempts, last_error)
                    SELECT notification_id, receiver, group_key, created_at, ?, attempts, 'the receiver is no longer configured'
                    FROM deliveries WHERE receiver = ? AND state = 'pending'
                    """, [.real(now.timeIntervalSince1970), receiver])
                try database.run("UPDATE deliveries SET state = 'dead' WHERE receiver = ? AND state = 'pending'", [receiver])
            }
            return count
        }
    }

    /// Receivers with dead letters since their last successful delivery: what
    /// `ntmwatch.delivery_failed` reports.
    public func failingReceivers() throws -> [(receiver: String, deadLetters: Int, lastError: String)] {
        try database.rows("""
            SELECT l.receiver, COUNT(*), MAX(l.last_error) FROM dead_letters l
            WHERE l.died_at > COALESCE((SELECT MAX(delivered_at) FROM deliveries d WHERE d.receiver = l.receiver AND d.state = 'delivered'), 0)
            GROUP BY l.receiver ORDER BY l.receiver
            """) { ($0.text(0), $0.integer(1), $0.optionalText(2) ?? "") }
    }

    /// Counts for `ntmwatch status` and the metrics.
    public func ledgerDepth() throws -> (pending: Int, dead: Int) {
        (try database.integer("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'") ?? 0,
         try database.integer("SELECT COUNT(*) FROM dead_letters") ?? 0)
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

    public func recordRun(check: String, at: Date, duration: Double?, outcome: String, reason: String?, findings: Int?) throws {
        let ok = outcome == "ok"
        try database.transaction {
            try database.run("""
                INSERT INTO check_runs (check_name, last_run_at, duration, outcome, reason, findings, consecutive_failures, last_success_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (check_name) DO UPDATE SET last_run_at = excluded.last_run_at, duration = excluded.duration,
                    outcome = excluded.outcome, reason = excluded.reason, findings = excluded.findings,
                    consecutive_failures = CASE WHEN excluded.outcome = 'ok' THEN 0 ELSE check_runs.consecutive_failures + 1 END,
                    last_success_at = COALESCE(excluded.last_success_at, check_runs.last_success_at)
                """, [.text(check), .real(at.timeIntervalSince1970), .of(duration), .text(outcome), .of(reason), .of(findings),
                      .integer(ok ? 0 : 1), .of(ok ? at.timeIntervalSince1970 : nil)])
        }
    }

    public func checkRuns() throws -> [CheckRun] {
        try database.rows("""
            SELECT check_name, last_run_at, duration, outcome, reason, findings, consecutive_failures, last_success_at
            FROM check_runs ORDER BY check_name
            """) { row in
            CheckRun(check: row.text(0), lastRunAt: Date(timeIntervalSince1970: row.double(1)), duration: row.optionalDouble(2),
                     outcome: row.text(3), reason: row.optionalText(4), findings: row.optionalInteger(5),
                     consecutiveFailures: row.integer(6), lastSuccessAt: row.optionalDouble(7).map { Date(timeIntervalSince1970: $0) })
        }
    }

    /// The running daemon says it is alive (every minute): `ntmwatch status` reads the age.
    public func heartbeat(at: Date, pid: Int32) throws {
        try database.transaction {
            try database.run("""
                INSERT INTO daemon (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, [.text("\(at.timeIntervalSince1970) \(pid)")])
        }
    }

    public func lastHeartbeat() throws -> (at: Date, pid: Int32)? {
        let values = try database.rows("SELECT value FROM daemon WHERE key = 'heartbeat'") { $0.text(0) }
        guard let text = values.first else { return nil }
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

    public func transitions(of fingerprint: String? = nil, since: Date = .distantPast) throws -> [AlertTracker.Transition] {
        let columns = "SELECT fingerprint, at, from_status, to_status, severity, rule, subject_id, silenced_by FROM alert_history"
        let from = SQLite3Value.real(since.timeIntervalSince1970)
        let (query, binds) = fingerprint.map { ("\(columns) WHERE at >= ? AND fingerprint = ? ORDER BY seq", [from, .text($0)]) }
            ?? ("\(columns) WHERE at >= ? ORDER BY seq", [from])
        return try database.rows(query, binds) { row in
            AlertTracker.Transition(
                fingerprint: row.text(0), at: Date(timeIntervalSince1970: row.double(1)),
                from: row.optionalText(2).flatMap(Alert.Status.init(rawValue:)), to: row.optionalText(3).flatMap(Alert.Status.init(rawValue:)),
                severity: Severity(rawValue: row.text(4)) ?? .error, ruleID: row.text(5), subjectID: row.text(6),
                silencedBy: row.optionalText(7))
        }
    }

    public func deliveryEvents(of notificationID: String? = nil) throws -> [DeliveryEvent] {
        let columns = "SELECT notification_id, receiver, at, result, batch, error FROM delivery_history"
        let (query, binds) = notificationID.map { ("\(columns) WHERE notification_id = ? ORDER BY seq", [SQLite3Value.text($0)]) }
            ?? ("\(columns) ORDER BY seq", [])
        return try database.rows(query, binds) { row in
            DeliveryEvent(notificationID: row.text(0), receiver: row.text(1), at: Date(timeIntervalSince1970: row.double(2)),
                          result: row.text(3), batch: row.optionalText(4), error: row.optionalText(5))
        }
    }

    /// Every notification recorded, oldest first (the history; delivered ones too).
    public func notifications(since: Date = .distantPast) throws -> [NTMAlerting.Notification] {
        try decodeNotifications("SELECT packed, body FROM notifications WHERE created_at >= ? ORDER BY created_at, id",
                                [.real(since.timeIntervalSince1970)])
    }

    /// Drops history and finished ledger rows older than `retention`; pending rows never. The alert
    /// history is dated by evaluation instants, so its age counts back from its newest entry when
    /// that is behind the wall clock: a backfill or a run `--at` a past day would otherwise lose its
    /// history at the next flush, and the digests built from it would show nothing new and nothing
    /// resolved.
    public func prune(keeping retention: Duration, now: Date) throws {
        let cut = SQLite3Value.real(now.timeIntervalSince1970 - retention.seconds)
        try database.transaction {
            try database.run("""
                DELETE FROM alert_history WHERE at < MIN(?, (SELECT MAX(at) FROM alert_history) - ?)
                """, [cut, .real(retention.seconds)])
            try database.run("DELETE FROM delivery_history WHERE at < ?", [cut])
            try database.run("DELETE FROM dead_letters WHERE died_at < ?", [cut])
            try database.run("DELETE FROM deliveries WHERE state <> 'pending' AND created_at < ?", [cut])
            try database.run("""
                DELETE FROM notifications WHERE created_at < ?
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)
                """, [cut])
        }
    }

    // MARK: Silences

    /// Every stored silence, expired ones included, by start.
    public func silences() throws -> [Silence] {
        try database.rows("SELECT id, body FROM silences ORDER BY starts_at, id") { row in
            let stored = try decoder.decode(AlertmanagerSilence.self, from: Data(row.text(1).utf8))
            return try stored.silence(position: "\(path): silence \(row.text(0))")
        }
    }

    /// Adds or replaces silences (by id) in one transaction.
    public func save(_ silences: [Silence]) throws {
        try database.transaction {
            for silence in silences {
                var stored = AlertmanagerSilence(silence, at: silence.updatedAt)
                stored.status = nil
                let body = String(decoding: try encoder.encode(stored), as: UTF8.self)
                try database.run("""
                    INSERT INTO silences (id, starts_at, ends_at, body) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, body = excluded.body
                    """, [.text(silence.id), .real(silence.startsAt.timeIntervalSince1970), .real(silence.endsAt.timeIntervalSince1970),
                          .text(body)])
            }
        }
    }

    // MARK: Digests

    /// Whether the digest of the period ending at `periodEnd` is to be sent now: not when it was
    /// sent already, nor when a later period's was (a backfill never sends an older period's).
    /// A claimed period whose send failed or was interrupted is claimed again.
    public func claimDigest(receiver: String, periodEnd: Date, at now: Date) throws -> Bool {
        let end = SQLite3Value.real(periodEnd.timeIntervalSince1970)
        return try database.transaction {
            let known = try database.rows("""
                SELECT MAX(period_end), MAX(CASE WHEN period_end = ? THEN 1 ELSE 0 END),
                    MAX(CASE WHEN period_end = ? AND sent_at IS NOT NULL THEN 1 ELSE 0 END)
                FROM digests WHERE receiver = ?
                """, [end, end, .text(receiver)]) { (latest: $0.optionalDouble(0), known: $0.optionalInteger(1), sent: $0.optionalInteger(2)) }.first
            if known?.sent == 1 { return false }
            if known?.known == 1 { return true }
            if let latest = known?.latest, latest > periodEnd.timeIntervalSince1970 { return false }
            try database.run("INSERT INTO digests (receiver, period_end, claimed_at) VALUES (?, ?, ?)",
                             [.text(receiver), end, .real(now.timeIntervalSince1970)])
            return true
        }
    }

    public func markDigestSent(receiver: String, periodEnd: Date, at now: Date) throws {
        try database.run("UPDATE digests SET sent_at = ? WHERE receiver = ? AND period_end = ?",
                         [.real(now.timeIntervalSince1970), .text(receiver), .real(periodEnd.timeIntervalSince1970)])
    }

    /// The end of the last period whose digest was sent before `periodEnd`: the next digest's "new since".
    public func lastDigest(receiver: String, before periodEnd: Date) throws -> Date? {
        try database.rows("""
            SELECT MAX(period_end) FROM digests WHERE receiver = ? AND sent_at IS NOT NULL AND period_end < ?
            """, [.text(receiver), .real(periodEnd.timeIntervalSince1970)]) { $0.optionalDouble(0) }.first?
            .map { Date(timeIntervalSince1970: $0) }
    }

    /// Every digest sent, oldest first: (receiver, period end).
    public func sentDigests() throws -> [(receiver: String, periodEnd: Date)] {
        try database.rows("SELECT receiver, period_end FROM digests WHERE sent_at IS NOT NULL ORDER BY period_end, receiver") {
            ($0.text(0), Date(timeIntervalSince1970: $0.double(1)))
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
    public func openAlertIndex() throws -> [IndexedAlert] {
        try database.rows("""
            SELECT fingerprint, status, severity, unit_id, active_since FROM alerts WHERE status <> 'resolved'
            """) { row in
            IndexedAlert(fingerprint: row.text(0), status: Alert.Status(rawValue: row.text(1)) ?? .firing,
                         severity: row.optionalText(2).flatMap(Severity.init(rawValue:)) ?? .error, unitID: row.optionalText(3),
                         activeSince: Date(timeIntervalSince1970: row.optionalDouble(4) ?? 0))
        }
    }

    /// The alerts of these fingerprints (those still stored), by fingerprint.
    public func alerts(fingerprints: [String]) throws -> [Alert] {
        guard !fingerprints.isEmpty else { return [] }
        let list = String(decoding: try encoder.encode(fingerprints), as: UTF8.self)
        return try decodeAlerts("""
            SELECT packed, body FROM alerts WHERE fingerprint IN (SELECT value FROM json_each(?)) ORDER BY fingerprint
            """, [.text(list)])
    }

    public func alert(fingerprint: String) throws -> Alert? {
        try alerts(fingerprints: [fingerprint]).first
    }

    /// Moves whenever an alert is written or dropped, or the history grows or is pruned; not with
    /// the heartbeat, the ledger or check runs. What the console's cached overview is keyed by.
    public struct ChangeMark: Sendable, Hashable {
        public var alertChanges: Int64
        public var firstHistory: Int64?
        public var lastHistory: Int64?
    }

    public func changeMark() throws -> ChangeMark {
        try database.rows("""
            SELECT (SELECT count FROM alert_changes WHERE id = 1), (SELECT MIN(seq) FROM alert_history), (SELECT MAX(seq) FROM alert_history)
            """) { row in
            ChangeMark(alertChanges: Int64(row.optionalInteger(0) ?? 0), firstHistory: row.optionalInteger(1).map(Int64.init),
                       lastHistory: row.optionalInteger(2).map(Int64.init))
        }.first ?? ChangeMark(alertChanges: 0)
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
    public func openings(since start: Date) throws -> [Opening] {
        let from = SQLite3Value.real(start.timeIntervalSince1970)
        let open = try database.rows("""
            SELECT fingerprint, unit_id FROM alerts WHERE active_since < ? AND (resolved_at IS NULL OR resolved_at >= ?)
            """, [from, from]) { Opening(fingerprint: $0.text(0), at: start, opens: true, unitID: $0.optionalText(1)) }
        return open + (try database.rows("""
            SELECT h.fingerprint, h.at, h.to_status, a.unit_id FROM alert_history h LEFT JOIN alerts a ON a.fingerprint = h.fingerprint
            WHERE h.at >= ? ORDER BY h.seq
            """, [from]) { row in
            let to = row.optionalText(2)
            return Opening(fingerprint: row.text(0), at: Date(timeIntervalSince1970: row.double(1)),
                           opens: to == Alert.Status.firing.rawValue || to == Alert.Status.pending.rawValue, unitID: row.optionalText(3))
        })
    }

    /// The notifications of one alert, oldest first.
    public func notifications(of fingerprint: String) throws -> [NTMAlerting.Notification] {
        try decodeNotifications("SELECT packed, body FROM notifications WHERE fingerprint = ? ORDER BY created_at, id", [.text(fingerprint)])
    }

    /// Closes the file; later calls fail.
    public func close() {
        checkpointer?.close()
        checkpointer = nil
        file = nil
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

/// Alerts as last recorded in the state file, one at a time by fingerprint. Not `Sendable`: it
/// belongs to the engine, which asks it while it applies a step (a read of committed rows on a
/// connection of its own; every step is committed before the next is applied).
public final class StoredAlerts {
    private let database: StateDatabase
    private let decoder = JSONDecoder()
    /// Read again when an alert names a template or word written since.
    private var messages: MessageTable

    init(path: String) throws {
        database = try StateDatabase(path: path, flags: [.readOnly])
        messages = try database.messages()
    }

    public func alert(_ fingerprint: String) throws -> Alert? {
        do {
            return try read(fingerprint)
        } catch let error as AlertCodec.Corrupt where error.missingEntry != nil {
            messages = try database.messages()
            return try read(fingerprint)
        }
    }

    private func read(_ fingerprint: String) throws -> Alert? {
        try database.rows("SELECT packed, body FROM alerts WHERE fingerprint = ?", [.text(fingerprint)]) { row in
            if let packed = row.optionalBlob(0) { return try AlertCodec.unpack(packed, messages: messages) }
            return try decoder.decode(Alert.self, from: Data(row.text(1).utf8))
        }.first
    }
}
