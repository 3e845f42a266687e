import CheckKit
import Foundation
import NTMSQLite
import Synchronization

/// One reader's snapshot of an SQLite store, on a read-only connection of its own (and a
/// partner for reads in halves) through NTMSQLite (Debian's libsqlite3): rows are read by
/// position as they are stepped, with no row
/// arrays in between (issue 21), and every query stops at `store.query_timeout` or when its task
/// is cancelled, as PostgreSQL's `statement_timeout` and cancellation do. The module host's SQL
/// rules and the data version read the store through the same library, so the daemon does not
/// hold the store file through two copies of SQLite, whose POSIX locks would undo each other's.
final class SQLiteSnapshot: @unchecked Sendable {
    // @unchecked: each connection and its statements are only touched under its lock, one query
    // at a time, on the thread that runs it; only the interrupters (Sendable) are used from elsewhere.
    private let main: Line
    /// A second connection for a long read done in two halves at once (``rowsInHalves``), used
    /// only if it reads the same snapshot as `main`; nil when it could not be opened.
    private let partner: Partner?
    private let timeout: Duration

    /// A connection and the lock that keeps it to one query at a time.
    private final class Line: @unchecked Sendable {
        let lock = Mutex(())
        let connection: SQLite3Connection

        init(path: String) throws {
            connection = try SQLite3Connection(path: StoreLocation.readOnlySQLiteURI(path), flags: [.readOnly, .uri])
            connection.setBusyTimeout(milliseconds: 5000)
            try connection.execute("PRAGMA query_only = ON")
        }
    }

    /// SQLite on Debian is built without `sqlite3_snapshot_open`, so the partner's snapshot is
    /// shown to be `main`'s another way: its data version is read before `main`'s snapshot is
    /// taken (by `main`'s first query) and again as its own is taken. The version moves with
    /// every commit in between; equal, no commit came between the two snapshots, so they are
    /// the same one.
    private final class Partner: Sendable {
        let line: Line
        let before: Int64
        /// Whether the partner reads `main`'s snapshot; nil until it has taken its own.
        let usable = Mutex<Bool?>(nil)

        init?(path: String) {
            // The transaction takes no lock until its first read (see `partnerShares`).
            guard let line = try? Line(path: path), let version = try? line.connection.dataVersion(),
                  (try? line.connection.execute("BEGIN DEFERRED")) != nil else { return nil }
            self.line = line
            before = version
        }
    }

    /// Takes the partner's snapshot the first time, on a thread of its own as every query (the
    /// read may wait for a lock); whether it is `main`'s.
    private func partnerShares(_ partner: Partner) async throws -> Bool {
        if let known = partner.usable.withLock({ $0 }) { return known }
        // `PRAGMA data_version` inside the transaction takes its snapshot.
        let version = try await rows("PRAGMA data_version", [], on: partner.line) { $0.statement.int64(0) }.first
        let same = version == partner.before
        partner.usable.withLock { $0 = same }
        return same
    }

    /// Whether the partner was found on this snapshot, for tests; nil before any read in halves,
    /// or without a partner.
    var partnerSharesTheSnapshot: Bool? { partner?.usable.withLock { $0 } }

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
        // The partner first: its version must be read before `main`'s snapshot can be taken.
        partner = Partner(path: path)
        main = try Line(path: path)
        try main.connection.execute("BEGIN DEFERRED")
        self.timeout = timeout
    }

    /// Ends the read transactions; the connections close when the last statement and the
    /// snapshot are gone.
    func end() {
        for line in [main, partner?.line].compactMap({ $0 }) {
            line.lock.withLock { _ in try? line.connection.execute("COMMIT") }
        }
    }

    /// Shared by the waiting task and the thread that runs the query.
    private final class Cancellation: Sendable {
        let cancelled = Atomic<Bool>(false)
    }

    /// The rows of `sql` (`?` placeholders bound to `binds` in order), each made by `make` while
    /// the statement stands on it; nil results are left out.
    func rows<T: Sendable>(_ sql: String, _ binds: [SQLite3Value], _ make: @escaping @Sendable (NativeRow) throws -> T?) async throws -> [T] {
        try await rows(sql, binds, on: main, make)
    }

    /// The rows of one query read as two at once: `below` (the rows before a key) on this
    /// snapshot's connection and `from` (the rows from it on) on the partner's, each on a thread
    /// of its own, in that order, as the one query would give them. The national store's
    /// 570,000 assessments kept one core busy for a second while the other waited for them
    /// (issue 21). `split` gives the table's row count and the key that halves it (NULL when
    /// empty); `below` and `from` take that key as their last parameter. Without a partner on
    /// the same snapshot, both halves are read here, one after the other.
    func rowsInHalves<T: Sendable>(split: String, below: String, from: String, _ binds: [SQLite3Value],
                                   _ make: @escaping @Sendable (NativeRow) throws -> T?) async throws -> (rows: [T], key: SQLite3Value) {
        let found = try await rows(split, [], on: main) { row in (count: Int(row.statement.int64(0)), key: row.statement.value(1)) }
        guard let (count, key) = found.first.map({ ($0.count, $0.key) }) else { return ([], .null) }
        let bound = binds + [key]
        // A partner that cannot take its snapshot is left out like one on another snapshot.
        guard let partner, (try? await partnerShares(partner)) == true else {
            var rows = try await self.rows(below, bound, on: main, reserving: count, make)
            rows += try await self.rows(from, bound, on: main, make)
            return (rows, key)
        }
        async let second = rows(from, bound, on: partner.line, make)
        // Room for both halves at once: joining them then copies only the second.
        var rows = try await self.rows(below, bound, on: main, reserving: count, make)
        rows += try await second
        return (rows, key)
    }

    /// An operator's query, each value in its stored type (as a SQL rule's are).
    func query(_ sql: String, parameters: [Value]) async throws -> [StoreRow] {
        try await rows(sql, parameters.map(StoreSQLiteValues.bindable)) { row in
            StoreRow(columns: row.columns, values: row.columns.indices.map { StoreSQLiteValues.value(row.statement.value($0)) })
        }
    }

    private func rows<T: Sendable>(_ sql: String, _ binds: [SQLite3Value], on line: Line, reserving capacity: Int = 0,
                                   _ make: @escaping @Sendable (NativeRow) throws -> T?) async throws -> [T] {
        let cancellation = Cancellation()
        let interrupter = line.connection.interrupter
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[T], any Error>) in
                // A thread of its own: a national table takes seconds to step, which must not
                // hold one of the few threads of Swift's cooperative pool.
                Thread {
                    continuation.resume(with: Result { try self.run(sql, binds, on: line, reserving: capacity, make, cancellation) })
                }.start()
            }
        } onCancel: {
            cancellation.cancelled.store(true, ordering: .relaxed)
            interrupter.interrupt()
        }
    }

    private func run<T>(_ sql: String, _ binds: [SQLite3Value], on line: Line, reserving capacity: Int,
                        _ make: (NativeRow) throws -> T?, _ cancellation: Cancellation) throws -> [T] {
        try line.lock.withLock { _ in
            if cancellation.cancelled.load(ordering: .relaxed) { throw CancellationError() }
            let connection = line.connection
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
                made.reserveCapacity(capacity)
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
