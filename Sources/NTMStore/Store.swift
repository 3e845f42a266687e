import CheckKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// Where the programme store lives.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// An SQLite file: the embedded default.
    case sqlite(path: String)
    /// A PostgreSQL server, as a `postgres://user:password@host:port/database` URL.
    case postgres(url: String)

    /// For logs and messages: never shows a password.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:\(path)"
        case .postgres(let url):
            return Redaction.redact(url)
        }
    }
}

extension StoreLocation {
    /// `file:PATH?mode=ro`, with the characters a URI gives a meaning to escaped.
    public static func readOnlySQLiteURI(_ path: String) -> String {
        let escaped = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "?#"))) ?? path
        return "file:\(escaped)?mode=ro"
    }
}

public enum StoreError: Error, CustomStringConvertible, Sendable {
    case notFound(String)
    case newerThanCode(found: Int, understood: Int)
    case notMigrated(found: Int, expected: Int)
    case invalidLocation(String)

    public var description: String {
        switch self {
        case .notFound(let what):
            return "the store \(what) does not exist; run `ntmwatch migrate` to create it"
        case .newerThanCode(let found, let understood):
            return "the store's schema is version \(found) but this ntmwatch understands up to \(understood); "
                + "upgrade ntmwatch before running it on this store"
        case .notMigrated(let found, let expected):
            return "the store's schema is version \(found), this ntmwatch needs \(expected); run `ntmwatch migrate`"
        case .invalidLocation(let why):
            return "invalid store location: \(why)"
        }
    }
}

/// One open connection, to either backend, seen through sql-kit so that the rest of the store
/// is written once.
public struct StoreConnection: Sendable {
    public enum Backend: String, Sendable { case sqlite, postgres }

    public let sql: any SQLDatabase
    public let backend: Backend
    let closeConnection: @Sendable () async throws -> Void

    public func close() async {
        try? await closeConnection()
    }

    public enum TransactionMode: Sendable {
        /// A consistent read-only snapshot.
        case read
        case write
        /// Writes, then rolls everything back: for `--dry-run`.
        case rehearse
    }

    /// Runs `body` in a transaction: committed when it returns (rolled back for `.read` and
    /// `.rehearse`), rolled back when it throws.
    /// PostgreSQL's WAL position (the replayed one on a standby): it moves with every commit that
    /// writes. Nil on SQLite, whose ``ReadModel`` watches `PRAGMA data_version` itself.
    func dataVersion() async throws -> Int64? {
        guard backend == .postgres else { return nil }
        return try await sql.raw("""
            SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint AS v
            """).first()?.decode(column: "v", as: Int64.self)
    }

    public func transaction<T: Sendable>(_ mode: TransactionMode = .write, _ body: () async throws -> T) async throws -> T {
        let begin: String
        switch (backend, mode) {
        case (.sqlite, .read): begin = "BEGIN DEFERRED"
        case (.sqlite, _): begin = "BEGIN IMMEDIATE"
        case (.postgres, .read): begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        case (.postgres, _): begin = "BEGIN"
        }
        try await sql.raw(SQLQueryString(begin)).run()
        do {
            let result = try await body()
            try await sql.raw(SQLQueryString(mode == .write ? "COMMIT" : "ROLLBACK")).run()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }
}

/// The programme store: opens connections, migrates, and hands out as-of readers.
public struct Store: Sendable {
    public enum Access: Sendable { case readOnly, readWrite }

    public let location: StoreLocation
    /// The longest a read-only query may run before the store cancels it.
    public var queryTimeout: Duration
    /// Records every query the readers issue (the scale bench's floor); nil in normal use.
    public var queryLog: QueryLog?
    let logger: Logger

    public init(location: StoreLocation, queryTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "ntmwatch.store")) {
        self.location = location
        self.queryTimeout = queryTimeout
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        self.logger = quiet
    }

    public func connect(_ access: Access) async throws -> StoreConnection {
        switch location {
        case .sqlite(let path):
            return try await connectSQLite(path: path, access: access)
        case .postgres(let url):
            return try await connectPostgres(url: url, access: access)
        }
    }

    public func withConnection<T: Sendable>(_ access: Access, _ body: (StoreConnection) async throws -> T) async throws -> T {
        let connection = try await connect(access)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Reads the store as of `instant` in one read-only snapshot; with a `model`, what other
    /// readers of that model have loaded is taken from it instead.
    public func withReader<T: Sendable>(asOf instant: Date, sharing model: ReadModel? = nil,
                                        _ body: (any StoreReader) async throws -> T) async throws -> T {
        if case .sqlite(let path) = location {
            let snapshot = try SQLiteSnapshot(path: path, timeout: queryTimeout)
            defer { snapshot.end() }
            // The model reads the file's data version before the snapshot's first query.
            let reader = SQLStoreReader(.sqlite(snapshot), asOf: instant, log: queryLog)
            guard let model, model.begin() else { return try await body(reader) }
            defer { model.end() }
            return try await body(SharedReader(base: reader, model: model))
        }
        return try await withConnection(.readOnly) { connection in
            // Before the snapshot: values loaded under this version are then never older than it.
            let version = model == nil ? nil : try? await connection.dataVersion()
            return try await connection.transaction(.read) {
                let reader = SQLStoreReader(.sql(connection.sql), asOf: instant, log: queryLog)
                guard let model, model.begin(version: version) else { return try await body(reader) }
                defer { model.end() }
                return try await body(SharedReader(base: reader, model: model))
            }
        }
    }

    private func connectSQLite(path: String, access: Access) async throws -> StoreConnection {
        let storagePath: String
        switch access {
        case .readOnly:
            guard FileManager.default.fileExists(atPath: path) else { throw StoreError.notFound("file \(path)") }
            // SQLiteNIO opens with SQLITE_OPEN_URI, so the read-only mode is SQLite's own, not ours.
            storagePath = StoreLocation.readOnlySQLiteURI(path)
        case .readWrite:
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            storagePath = path
        }
        let connection = try await SQLiteConnection.open(storage: .file(path: storagePath), logger: logger)
        let sql = connection.sql()
        do {
            try await sql.raw("PRAGMA busy_timeout = 5000").run()
            try await sql.raw("PRAGMA foreign_keys = ON").run()
            if access == .readWrite {
                try await sql.raw("PRAGMA journal_mode = WAL").run()
            } else {
                try await sql.raw("PRAGMA query_only = ON").run()
            }
        } catch {
            // The future-based close, as below: a PRAGMA fails this way when the check's task was
            // cancelled, and an unclosed connection traps in its deinit.
            try? await connection.close().get()
            throw error
        }
        // The future-based close, on purpose: the async one does nothing in a cancelled task
        // (a check that timed out), and the connection must be closed all the same.
        return StoreConnection(sql: sql, backend: .sqlite, closeConnection: { try await connection.close().get() })
    }

    private func connectPostgres(url: String, access: Access) async throws -> StoreConnection {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StoreError.invalidLocation("\(location) is not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(),
            configuration: configuration.coreConfiguration,
            id: 1,
            logger: logger)
        let sql = connection.sql()
        do {
            if access == .readOnly {
                try await sql.raw("SET default_transaction_read_only = on").run()
                try await sql.raw("SET statement_timeout = \(unsafeRaw: String(queryTimeout.milliseconds))").run()
            }
            try await sql.raw("SET TIME ZONE 'Asia/Ho_Chi_Minh'").run()
        } catch {
            try? await connection.close()
            throw error
        }
        return StoreConnection(sql: sql, backend: .postgres, closeConnection: { try await connection.close() })
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
