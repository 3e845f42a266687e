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
        guard let (count, key) = found.first.map({ ($0.count, $0.key) }), count > 0 else { return ([], .null) }
        // A partner that cannot take its snapshot is left out like one on another snapshot.
        let shares = if let partner { (try? await partnerShares(partner)) == true } else { false }
        let second = shares ? partner!.line : main
        let rows = try await onThread(interrupting: [main, second]) { cancellation in
            try self.halves(below, from, binds + [key], count: count, second: second, make, cancellation)
        }
        return (rows, key)
    }

    /// Both halves written into one array with room for the whole table: the first half from its
    /// start, the second from its middle (on `second`'s thread when that is the partner), then
    /// moved down to follow the first. Two arrays joined at the end held the second half twice
    /// at once, 106 MB at the large size (issue 21). The first half has at most `count / 2`
    /// rows, the key being the unit at that position; the second can have more by that unit's
    /// rows before it, which wait in a small array of their own. The halves' rows are fewer than
    /// the table's when the date leaves some out; the rest of the room is never touched.
    private func halves<T: Sendable>(_ below: String, _ from: String, _ binds: [SQLite3Value], count: Int, second: Line,
                                     _ make: @escaping @Sendable (NativeRow) throws -> T?, _ cancellation: Cancellation) throws -> [T] {
        try Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            let middle = count / 2
            let lower = UnsafeMutableBufferPointer(rebasing: buffer[..<middle])
            let upper = Unchecked(UnsafeMutableBufferPointer(rebasing: buffer[middle...]))
            let first: Result<Filled<T>, any Error>, next: Result<Filled<T>, any Error>
            if second === main {
                first = Result { try fill(below, binds, on: main, into: lower, make, cancellation) }
                next = first.flatMap { _ in Result { try fill(from, binds, on: main, into: upper.value, make, cancellation) } }
            } else {
                let other = Unchecked<Result<Filled<T>, any Error>?>(nil)
                let done = DispatchSemaphore(value: 0)
                // A half that fails stops the other: its rows are of no use.
                let main = self.main
                Thread {
                    other.value = Result { try self.fill(from, binds, on: second, into: upper.value, make, cancellation) }
                    if case .failure = other.value {
                        cancellation.cancelled.store(true, ordering: .relaxed)
                        main.connection.interrupter.interrupt()
                    }
                    done.signal()
                }.start()
                first = Result { try fill(below, binds, on: main, into: lower, make, cancellation) }
                if case .failure = first {
                    cancellation.cancelled.store(true, ordering: .relaxed)
                    second.connection.interrupter.interrupt()
                }
                // The partner writes into `buffer` until it signals: never leave before.
                done.wait()
                next = other.value!
            }
            // A failed half has put back what it wrote; the other's rows are put back here.
            let (low, high): (Filled<T>, Filled<T>)
            switch (first, next) {
            case (.success(let a), .success(let b)): (low, high) = (a, b)
            case (.success(let a), .failure(let error)):
                lower.baseAddress?.deinitialize(count: a.inPlace)
                throw error
            case (.failure(let error), .success(let b)):
                upper.value.baseAddress?.deinitialize(count: b.inPlace)
                throw error
            case (.failure(let error), .failure(let other)):
                // The half stopped by the other's failure reports a cancellation: say the cause.
                throw error is CancellationError ? other : error
            }
            // The halves of one snapshot have at most the table's rows. Were the partner on
            // another one after all, more rows would be written past the array: refuse instead.
            guard low.inPlace + low.overflow.count + high.inPlace + high.overflow.count <= count else {
                lower.baseAddress?.deinitialize(count: low.inPlace)
                upper.value.baseAddress?.deinitialize(count: high.inPlace)
                throw HalvesOutgrewTheTable(rows: count)
            }
            guard let base = buffer.baseAddress else { return }
            var end = low.inPlace
            func append(_ rows: [T]) {
                rows.withUnsafeBufferPointer { if let from = $0.baseAddress { (base + end).initialize(from: from, count: $0.count) } }
                end += rows.count
            }
            // The second half's rows move past the first's (and past anything the first could
            // not place, which its bound rules out); the source and target may overlap.
            let shift = end + low.overflow.count
            if shift != middle { (base + shift).moveInitialize(from: base + middle, count: high.inPlace) }
            append(low.overflow)
            end += high.inPlace
            append(high.overflow)
            initialized = end
        }
    }

    struct HalvesOutgrewTheTable: Error, CustomStringConvertible {
        let rows: Int
        var description: String {
            "a read in two halves gave more rows than the \(rows) its table held: the two connections did not read one snapshot"
        }
    }

    /// What one half wrote: its count in place, and the rows past its room, in order after them.
    private struct Filled<T> {
        var inPlace = 0
        var overflow: [T] = []
    }

    /// A value handed to a thread of ours (a region of an array being built, a half's result):
    /// each is touched by one thread at a time, with the semaphore ordering the hand-back.
    private final class Unchecked<Value>: @unchecked Sendable {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Steps `sql` and writes what `make` gives into `region` from its start, and what does not
    /// fit after it, in order. On an error it deinitializes what it wrote.
    private func fill<T>(_ sql: String, _ binds: [SQLite3Value], on line: Line, into region: UnsafeMutableBufferPointer<T>,
                         _ make: (NativeRow) throws -> T?, _ cancellation: Cancellation) throws -> Filled<T> {
        var filled = Filled<T>()
        do {
            try step(sql, binds, on: line, cancellation) { row in
                guard let value = try make(row) else { return }
                if filled.inPlace < region.count {
                    (region.baseAddress! + filled.inPlace).initialize(to: value)
                    filled.inPlace += 1
                } else {
                    filled.overflow.append(value)
                }
            }
        } catch {
            region.baseAddress?.deinitialize(count: filled.inPlace)
            throw error
        }
        return filled
    }

    /// An operator's query, each value in its stored type (as a SQL rule's are).
    func query(_ sql: String, parameters: [Value]) async throws -> [StoreRow] {
        try await rows(sql, parameters.map(StoreSQLiteValues.bindable)) { row in
            StoreRow(columns: row.columns, values: row.columns.indices.map { StoreSQLiteValues.value(row.statement.value($0)) })
        }
    }

    private func rows<T: Sendable>(_ sql: String, _ binds: [SQLite3Value], on line: Line,
                                   _ make: @escaping @Sendable (NativeRow) throws -> T?) async throws -> [T] {
        try await onThread(interrupting: [line]) { cancellation in
            var made: [T] = []
            try self.step(sql, binds, on: line, cancellation) { row in
                if let value = try make(row) { made.append(value) }
            }
            return made
        }
    }

    /// Runs `body` on a thread of its own: a national table takes seconds to step, which must
    /// not hold one of the few threads of Swift's cooperative pool. Cancelling the task
    /// interrupts the queries of `lines`.
    private func onThread<R: Sendable>(interrupting lines: [Line], _ body: @escaping @Sendable (Cancellation) throws -> R) async throws -> R {
        let cancellation = Cancellation()
        let interrupters = lines.map(\.connection.interrupter)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, any Error>) in
                Thread { continuation.resume(with: Result { try body(cancellation) }) }.start()
            }
        } onCancel: {
            cancellation.cancelled.store(true, ordering: .relaxed)
            for interrupter in interrupters { interrupter.interrupt() }
        }
    }

    /// Prepares and binds `sql` on `line` and hands `each` the statement on every row.
    private func step(_ sql: String, _ binds: [SQLite3Value], on line: Line, _ cancellation: Cancellation,
                      _ each: (NativeRow) throws -> Void) throws {
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
                try statement.bind(binds)
                let row = NativeRow(statement)
                while try statement.step() { try each(row) }
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
