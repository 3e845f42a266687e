import CheckKit
import Dispatch
import NTMAlerting
import NTMSQLite

/// The state file's one connection, with each statement compiled once and reused.
///
/// The state store's writes are SQLite's own speed only through prepared statements: a national
/// first cycle writes 70,000 alerts and as many history rows, notifications and ledger rows, and
/// building and compiling a statement per few hundred rows (SQLiteNIO through sql-kit) was most of
/// that cycle. Not `Sendable`: it belongs to the ``AlertStateStore`` actor, whose executor is a
/// serial queue of its own, so its blocking calls never hold a thread of the cooperative pool.
final class StateDatabase {
    let connection: SQLite3Connection
    private var statements: [String: SQLite3Statement] = [:]

    init(path: String, flags: SQLite3Connection.OpenFlags) throws(SQLite3Error) {
        connection = try SQLite3Connection(path: path, flags: flags)
        connection.setBusyTimeout(milliseconds: 5000)
    }

    /// A statement compiled once per text.
    private func statement(_ sql: String) throws(SQLite3Error) -> SQLite3Statement {
        if let known = statements[sql] { return known }
        let made = try connection.prepare(sql)
        statements[sql] = made
        return made
    }

    /// Runs a statement that returns no rows.
    func run(_ sql: String, _ binds: [SQLite3Value] = []) throws(SQLite3Error) {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(binds)
        while try statement.step() {}
    }

    /// Inserts `rows` (each the values of one `values` tuple, in order) with `head`, then `tail`
    /// (an `ON CONFLICT` clause): up to ``insertChunk`` rows per statement. A statement per row
    /// spent as long in SQLite's start and end of a statement as in the inserts themselves for a
    /// national first cycle's 270,000 rows (issue 21). The rows beyond the last whole chunk go one
    /// by one, so that at most two statements per table are kept compiled.
    func insert(_ head: String, values tuple: String, _ tail: String = "", rows: some Collection<[SQLite3Value]>) throws(SQLite3Error) {
        guard !rows.isEmpty else { return }
        let one = "\(head) VALUES \(tuple) \(tail)"
        let many = rows.count < Self.insertChunk ? one
            : "\(head) VALUES \(Array(repeating: tuple, count: Self.insertChunk).joined(separator: ", ")) \(tail)"
        let inChunks = rows.count - rows.count % Self.insertChunk
        var chunk: [SQLite3Value] = []
        for (index, row) in rows.enumerated() {
            guard index < inChunks else {
                try run(one, row)
                continue
            }
            chunk.append(contentsOf: row)
            if (index + 1) % Self.insertChunk == 0 {
                try run(many, chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
    }

    static let insertChunk = 64

    /// The rows of a query, each made while its statement stands on it.
    func rows<T>(_ sql: String, _ binds: [SQLite3Value] = [], _ make: (StateRow) throws -> T) throws -> [T] {
        let statement = try statement(sql)
        defer { statement.reset() }
        try statement.bind(binds)
        var result: [T] = []
        let row = StateRow(statement: statement)
        while try statement.step() { result.append(try make(row)) }
        return result
    }

    /// The first column of the first row; nil when there is no row or it is NULL.
    func integer(_ sql: String, _ binds: [SQLite3Value] = []) throws -> Int? {
        try rows(sql, binds) { $0.optionalInteger(0) }.first ?? nil
    }

    /// Runs `body` between `BEGIN IMMEDIATE` and `COMMIT`; anything it throws rolls back.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try connection.execute("COMMIT")
            return result
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// The file's message templates and words (``MessageTable``); none from a file older than
    /// their tables.
    func messages() throws -> MessageTable {
        func has(_ table: String) throws -> Bool {
            try integer("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", [.text(table)]) == 1
        }
        // Numbers are places in a table: a gap would give every later entry a wrong one.
        func numbered<T>(_ table: String, _ columns: String, _ make: (StateRow) -> T) throws -> [T] {
            guard try has(table) else { return [] }
            var expected = 0
            return try rows("SELECT number, \(columns) FROM \(table) ORDER BY number") { row in
                guard row.integer(0) == expected else { throw TableGap(table: table, number: expected) }
                expected += 1
                return make(row)
            }
        }
        return MessageTable(try numbered("messages", "vi, en") { LocalizedText(vi: $0.text(1), en: $0.text(2)) },
                            words: try numbered("words", "text") { $0.text(1) })
    }

    struct TableGap: Error, CustomStringConvertible {
        let table: String, number: Int
        var description: String { "entry \(number) of the state file's \(table) table is missing: the file was damaged" }
    }

    /// Column names of a table.
    func columns(of table: String) throws -> Set<String> {
        Set(try rows("PRAGMA table_info(\(table))") { $0.text(1) })
    }
}

/// A row of the state file, read by column position.
struct StateRow {
    fileprivate let statement: SQLite3Statement

    func text(_ index: Int) -> String { statement.text(index) }
    func optionalText(_ index: Int) -> String? { statement.isNull(index) ? nil : statement.text(index) }
    func double(_ index: Int) -> Double { statement.double(index) }
    func optionalDouble(_ index: Int) -> Double? { statement.isNull(index) ? nil : statement.double(index) }
    func integer(_ index: Int) -> Int { Int(statement.int64(index)) }
    func optionalInteger(_ index: Int) -> Int? { statement.isNull(index) ? nil : Int(statement.int64(index)) }
    func optionalBlob(_ index: Int) -> [UInt8]? {
        if case .blob(let bytes) = statement.value(index) { return bytes }
        return nil
    }
    /// A blob's bytes where SQLite holds them, valid only inside `body`; nil when not a blob.
    func withBlob<T>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T? {
        guard statement.type(index) == .blob else { return nil }
        return try statement.withBlob(index, body)
    }
}

/// Runs an actor's jobs on a serial dispatch queue of its own: the state store blocks in SQLite
/// (an fsync per commit, seconds for a national first cycle), which must not occupy one of the
/// few threads every other task of the daemon runs on.
final class QueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
}

extension SQLite3Value {
    /// An optional's value, or NULL.
    static func of(_ text: String?) -> SQLite3Value { text.map { .text($0) } ?? .null }
    static func of(_ number: Double?) -> SQLite3Value { number.map { .real($0) } ?? .null }
    static func of(_ number: Int?) -> SQLite3Value { number.map { .integer(Int64($0)) } ?? .null }
}
