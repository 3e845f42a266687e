import Foundation
import NTMSQLite
import Synchronization

/// A number that moves whenever the store's data may have changed, so that what was read from
/// it can be kept until then: the daemon's shared reads and the console's unit placement.
/// - SQLite: `PRAGMA data_version` on a connection of this object's own, which moves with every
///   commit of any other connection.
/// - PostgreSQL: the server's WAL position (the replayed one on a standby). Every commit that
///   writes moves it; so do writes to other databases of the server and checkpoints, which only
///   cost a read again, never a stale value.
/// Read it before the snapshot whose values are kept under it, so they are never older than it.
public final class DataVersion: Sendable {
    private let store: Store
    private let sqlite = Mutex<SQLite3Connection?>(nil)

    public init(_ store: Store) { self.store = store }

    /// Nil when it cannot be read (a file not there yet, a server that refuses): keep nothing.
    public func current() async -> Int64? {
        switch store.location {
        case .sqlite: return currentSQLite()
        case .postgres: return try? await store.withConnection(.readOnly) { try await $0.dataVersion() }
        }
    }

    /// The SQLite version without suspending (callers under a lock); nil on PostgreSQL.
    func currentSQLite() -> Int64? {
        guard case .sqlite(let path) = store.location else { return nil }
        return sqlite.withLock { connection in
            if connection == nil {
                connection = try? SQLite3Connection(path: StoreLocation.readOnlySQLiteURI(path), flags: [.readOnly, .uri])
            }
            return try? connection?.dataVersion()
        }
    }
}
