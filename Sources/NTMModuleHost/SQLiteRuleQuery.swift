import CheckKit
import Foundation
import NTMSQLite
import NTMStore
import Synchronization

/// A SQL rule's query on an SQLite store, on a connection of its own: opened read-only
/// (`mode=ro`, `query_only`), with an authorizer that allows only reads, and interrupted at its
/// deadline or when its check is cancelled, so a runaway query does not hold a core after the
/// check has been reported as timed out.
struct SQLiteRuleQuery {
    let path: String
    let query: String

    /// Why the query may not run (it writes, attaches, has several statements...), or nil.
    func refusal(parameterCount: Int) -> String? {
        do {
            let (connection, denied) = try open()
            let statement: SQLite3Statement
            do { statement = try connection.prepare(query) } catch {
                if let denied = denied.what.withLock({ $0 }) {
                    return "refused: the query uses \(denied), and a SQL rule may only read (SQLite: \(error))"
                }
                return "the query does not compile on the store: \(error)"
            }
            guard statement.isReadOnly else { return "refused: the query would change the store; a SQL rule may only read" }
            guard statement.parameterCount == parameterCount else {
                return "the query has \(statement.parameterCount) parameters (?) but parameters: lists \(parameterCount)"
            }
            return nil
        } catch {
            return "cannot check the query against the store: \(error)"
        }
    }

    /// What the authorizer denied first, for the message.
    final class Denial: Sendable {
        let what = Mutex<String?>(nil)
    }

    /// Shared between the task that waits and the thread that runs the query.
    final class RunState: Sendable {
        let cancelled = Atomic<Bool>(false)
        let interrupter = Mutex<SQLite3Interrupter?>(nil)
    }

    private func open() throws(SQLite3Error) -> (SQLite3Connection, Denial) {
        let connection = try SQLite3Connection(path: StoreLocation.readOnlySQLiteURI(path), flags: [.readOnly, .uri])
        connection.setBusyTimeout(milliseconds: 5000)
        try connection.execute("PRAGMA query_only = ON")
        let denied = Denial()
        connection.setAuthorizer { request in
            let decision = SQLite3Connection.readOnlyAuthorizer(request)
            if decision == .deny { denied.what.withLock { if $0 == nil { $0 = SQLite3Connection.describe(request) } } }
            return decision
        }
        return (connection, denied)
    }

    /// Runs the query with `parameters` bound in order; interrupted after `timeout` (a
    /// ``ModuleTimedOut``) or when the calling task is cancelled (a `CancellationError`).
    func run(parameters: [Value], timeout: Duration) async throws -> [StoreRow] {
        let state = RunState()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[StoreRow], any Error>) in
                Thread {
                    continuation.resume(with: Result {
                        try runBlocking(parameters: parameters, timeout: timeout, state: state)
                    })
                }.start()
            }
        } onCancel: {
            state.cancelled.store(true, ordering: .relaxed)
            state.interrupter.withLock { $0?.interrupt() }
        }
    }

    private func runBlocking(parameters: [Value], timeout: Duration, state: RunState) throws -> [StoreRow] {
        let (connection, denied) = try open()
        state.interrupter.withLock { $0 = connection.interrupter }
        let deadline = ContinuousClock.now + timeout
        // The progress handler ends a query that runs VM steps; interrupt() (on cancellation) also
        // reaches one that sorts or waits.
        connection.setProgressHandler(every: 10_000) {
            state.cancelled.load(ordering: .relaxed) || ContinuousClock.now >= deadline
        }
        if state.cancelled.load(ordering: .relaxed) { throw CancellationError() }
        do {
            let statement = try connection.prepare(query)
            try statement.bind(parameters.map(StoreSQLiteValues.bindable))
            let columns = (0..<statement.columnCount).map(statement.columnName)
            var rows: [StoreRow] = []
            while try statement.step() {
                rows.append(StoreRow(columns: columns, values: columns.indices.map { StoreSQLiteValues.value(statement.value($0)) }))
            }
            return rows
        } catch {
            // One catch: a where-clause per case crashes the 6.3 compiler on typed throws.
            if error.isInterrupt {
                if state.cancelled.load(ordering: .relaxed) { throw CancellationError() }
                throw ModuleTimedOut(description: "the query ran longer than \(DurationText.format(timeout)) (store.query_timeout) "
                                     + "and was interrupted")
            }
            // A denied function is reported as SQLITE_ERROR, not SQLITE_AUTH: the note tells.
            if error.isDenied || denied.what.withLock({ $0 }) != nil {
                throw RuleQueryError(description: "refused: the query uses \(denied.what.withLock { $0 } ?? "something"), and a SQL rule may only read")
            }
            throw RuleQueryError(description: "the query failed: \(error.message)")
        }
    }

    struct RuleQueryError: Error, CustomStringConvertible {
        let description: String
    }
}
