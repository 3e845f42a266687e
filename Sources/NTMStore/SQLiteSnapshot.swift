import CheckKit
import Foundation
import NTMSQLite
import Synchronization

/// One reader's snapshot of an SQLite store, on a read-only connection of its own through
/// NTMSQLite (Debian's libsqlite3): rows are read by position as they are stepped, with no row
/// arrays in between (issue 21), and every query stops at `store.query_timeout` or when its task
/// is cancelled, as PostgreSQL's `statement_timeout` and cancellation do. The module host's SQL
/// rules and the data version read the store through the same library, so the daemon does not
/// hold the store file through two copies of SQLite, whose POSIX locks would undo each other's.
final class SQLiteSnapshot: @unchecked Sendable {
    // @unchecked: the connection and its statements are only touched under `lock`, one query at
    // a time, on the thread that runs it; only the interrupter (Sendable) is used from elsewhere.
    private let lock = Mutex(())
    private let connection: SQLite3Connection
    private let timeout: Duration

    struct TimedOut: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String {
            "a store query ran longer than \(timeout.components.seconds) s (store.query_timeout) and was interrupted"
        }
    }

    /// Opens the file read-only and begins a deferred transaction: the snapshot is taken by the
    /// first query, so a data version read before it is never newer than what is read.
    init(path: String, timeout: Duration) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.notFound("file \(path)") }
        connection = try SQLite3Connection(path: StoreLocation.readOnlySQLiteURI(path), flags: [.readOnly, .uri])
        connection.setBusyTimeout(milliseconds: 5000)
        try connection.execute("PRAGMA query_only = ON")
        try connection.execute("BEGIN DEFERRED")
        self.timeout = timeout
    }

    /// Ends the read transaction; the connection closes when the last statement and the
    /// snapshot are gone.
    func end() {
        lock.withLock { _ in try? connection.execute("COMMIT") }
    }

    /// Shared by the waiting task and the thread that runs the query.
    private final class Cancellation: Sendable {
        let cancelled = Atomic<Bool>(false)
    }

    /// The rows of `sql` (`?` placeholders bound to `binds` in order), each made by `make` while
    /// the statement stands on it; nil results are left out.
    func rows<T: Sendable>(_ sql: String, _ binds: [SQLite3Value], _ make: @escaping @Sendable (NativeRow) throws -> T?) async throws -> [T] {
        let cancellation = Cancellation()
        let interrupter = connection.interrupter
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[T], any Error>) in
                // A thread of its own: a national table takes seconds to step, which must not
                // hold one of the few threads of Swift's cooperative pool.
                Thread {
                    continuation.resume(with: Result { try self.run(sql, binds, make, cancellation) })
                }.start()
            }
        } onCancel: {
            cancellation.cancelled.store(true, ordering: .relaxed)
            interrupter.interrupt()
        }
    }

    /// An operator's query, each value in its stored type (as a SQL rule's are).
    func query(_ sql: String, parameters: [Value]) async throws -> [StoreRow] {
        try await rows(sql, parameters.map(StoreSQLiteValues.bindable)) { row in
            StoreRow(columns: row.columns, values: row.columns.indices.map { StoreSQLiteValues.value(row.statement.value($0)) })
        }
    }

    private func run<T>(_ sql: String, _ binds: [SQLite3Value], _ make: (NativeRow) throws -> T?, _ cancellation: Cancellation) throws -> [T] {
        try lock.withLock { _ in
            if cancellation.cancelled.load(ordering: .relaxed) { throw CancellationError() }
            let deadline = ContinuousClock.now + timeout
            // The progress handler ends a query that runs VM steps past its deadline; interrupt()
            // (on cancellation) also reaches one that sorts or waits.
            connection.setProgressHandler(every: 10_000) {
                cancellation.cancelled.load(ordering: .relaxed) || ContinuousClock.now >= deadline
            }
            defer { connection.setProgressHandler(every: 0, nil) }
            do {
                let statement = try connection.prepare(sql)
                guard statement.parameterCount == binds.count else {
                    throw ReadOnlyQuery.ParameterCountMismatch(placeholders: statement.parameterCount, parameters: binds.count)
                }
                for (index, bind) in binds.enumerated() { try statement.bind(bind, at: index + 1) }
                let row = NativeRow(statement)
                var made: [T] = []
                while try statement.step() {
                    if let value = try make(row) { made.append(value) }
                }
                return made
            } catch {
                guard let failure = error as? SQLite3Error, failure.isInterrupt else { throw error }
                if cancellation.cancelled.load(ordering: .relaxed) { throw CancellationError() }
                throw TimedOut(timeout: timeout)
            }
        }
    }
}

/// How ntmwatch's values meet SQLite's storage classes, for operators' queries on either path
/// (the store reader's, the module host's SQL rules).
public enum StoreSQLiteValues {
    public static func bindable(_ value: Value) -> SQLite3Value {
        switch value {
        case .integer(let i), .amountVND(let i): .integer(i)
        case .number(let d), .percent(let d): .real(d)
        case .bool(let b): .integer(b ? 1 : 0)
        case .instant(let t): .text(StoreTime.format(t))
        case .text, .date, .list, .localized: .text(value.plain)
        }
    }

    /// A blob has no value ntmwatch can show: nil, as NULL.
    public static func value(_ value: SQLite3Value) -> Value? {
        switch value {
        case .null, .blob: nil
        case .integer(let i): .integer(i)
        case .real(let d): .number(d)
        case .text(let s): .text(s)
        }
    }
}
