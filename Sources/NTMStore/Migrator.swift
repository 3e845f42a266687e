import Foundation
import SQLKit

extension Store {
    /// The schema version the store is at; 0 for an empty store.
    public func schemaVersion() async throws -> Int {
        try await withConnection(.readOnly) { try await Store.schemaVersion(on: $0) }
    }

    static func schemaVersion(on connection: StoreConnection) async throws -> Int {
        let exists: String
        switch connection.backend {
        case .sqlite: exists = "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        case .postgres: exists = "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = current_schema()"
        }
        let count = try await connection.sql.raw(SQLQueryString(exists)).first()?.decode(column: "n", as: Int.self) ?? 0
        guard count > 0 else { return 0 }
        return try await connection.sql.raw("SELECT max(version) AS v FROM schema_migrations").first()?
            .decode(column: "v", as: Int?.self) ?? 0
    }

    /// Applies the migrations the store has not had, each in its own transaction, and returns them.
    /// Refuses a store newer than this code.
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await withConnection(.readWrite) { connection in
            try await connection.sql.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
                """).run()
            let found = try await Store.schemaVersion(on: connection)
            guard found <= Schema.currentVersion else {
                throw StoreError.newerThanCode(found: found, understood: Schema.currentVersion)
            }
            var applied: [Migration] = []
            for migration in Schema.migrations where migration.version > found {
                try await connection.transaction {
                    let sqliteOnly = connection.backend == .sqlite ? migration.sqliteOnly : []
                    for statement in migration.statements + sqliteOnly {
                        try await connection.sql.raw(SQLQueryString(statement)).run()
                    }
                    let now = Date().formatted(.iso8601)
                    try await connection.sql.raw("""
                        INSERT INTO schema_migrations (version, name, applied_at)
                        VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))
                        """).run()
                }
                applied.append(migration)
            }
            return applied
        }
    }

    /// Throws unless the store is exactly at the schema this code was built for.
    public func requireCurrentSchema() async throws {
        let found = try await schemaVersion()
        if found > Schema.currentVersion { throw StoreError.newerThanCode(found: found, understood: Schema.currentVersion) }
        if found < Schema.currentVersion { throw StoreError.notMigrated(found: found, expected: Schema.currentVersion) }
    }
}
