import CSQLite3
import Foundation
import Synchronization

/// A thin layer over the SQLite C API (Debian's libsqlite3), for what SQLiteNIO does not offer:
/// interrupting a running statement from another thread, an authorizer, a progress handler, and
/// prepared statements read by column index and reused with new bindings.
///
/// Concurrency: a ``SQLite3Connection`` and its statements belong to one task or thread at a time
/// (they are not `Sendable`); only ``SQLite3Connection/interrupter`` crosses threads.

/// An SQLite result code with the connection's message and, when known, the statement.
public struct SQLite3Error: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String

    public var description: String { message }

    /// The statement was interrupted (by ``SQLite3Interrupter/interrupt()`` or the progress handler).
    public var isInterrupt: Bool { code & 0xff == SQLITE_INTERRUPT }
    /// The authorizer refused the statement.
    public var isDenied: Bool { code & 0xff == SQLITE_AUTH }
}

/// A value read from or bound to a statement.
public enum SQLite3Value: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// Stops whatever statement its connection runs; safe to call from any thread, before or after
/// the connection is closed (then it does nothing).
public final class SQLite3Interrupter: Sendable {
    // The connection's address, not the pointer itself: the pointer is the connection's to use,
    // this only names it for sqlite3_interrupt, under the lock that close() also takes.
    fileprivate let handle: Mutex<UInt?>

    fileprivate init(_ handle: OpaquePointer) { self.handle = Mutex(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))) }

    public func interrupt() {
        handle.withLock { address in
            if let address, let db = OpaquePointer(bitPattern: address) { sqlite3_interrupt(db) }
        }
    }
}

/// Set once, before the first connection initializes SQLite; the names of those that did not take
/// effect (``SQLite3Connection/settingsNotApplied``).
/// - Nothing here reads SQLite's memory statistics, and keeping them took a process-wide mutex
///   around every allocation and free: 4% of the time a national first cycle spends recording its
///   alerts, with SQLite's allocations locked against each other from every connection.
/// - A statement that writes several rows inside a transaction keeps the pages it changes, as
///   they were, to undo only itself on a constraint failure; it is never read unless the
///   statement fails. Past 64 KiB SQLite writes it to a temporary file: the state's 64-row inserts
///   wrote 400 MB there in 195,000 calls during a national first cycle, more than the log and the
///   database together (issue 21). It is kept in memory instead, whatever its size: one
///   statement's changed pages, freed when the statement ends (an insert's few hundred KB; a
///   ledger update of a whole national batch, tens of MB). Not a finite threshold: with one
///   between 256 KiB and 8 MiB, SQLite 3.40 (Debian 12's) failed the statement that crossed it
///   with SQLITE_FULL instead of spilling (a C program on the system library, 2026-11-27).
private let processSettings: [String] = {
    var notApplied: [String] = []
    if ntmsqlite_disable_memory_statistics() != SQLITE_OK { notApplied.append("memory statistics off") }
    if ntmsqlite_statement_journals_in_memory(-1) != SQLITE_OK {
        notApplied.append("statement journals in memory")
    }
    return notApplied
}()

/// What the authorizer is asked about while a statement is prepared (`sqlite3_set_authorizer`).
public struct SQLite3AuthorizerRequest: Sendable {
    /// The action code, e.g. `SQLITE_READ`, `SQLITE_SELECT`, `SQLITE_FUNCTION`, `SQLITE_ATTACH`.
    public let action: Int32
    public let first: String?
    public let second: String?
    public let database: String?
    public let trigger: String?
}

public enum SQLite3AuthorizerDecision: Sendable {
    case allow, deny, ignore
}

public final class SQLite3Connection {
    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        public static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        public static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
        /// The name is a `file:` URI (`?mode=ro`, `?immutable=1`, ...).
        public static let uri = OpenFlags(rawValue: SQLITE_OPEN_URI)
    }

    /// The process-wide settings that did not take effect: SQLite takes them only before it is
    /// initialized, so something in the process opened the system's SQLite before ntmwatch did.
    /// Read after a connection is opened.
    public static var settingsNotApplied: [String] { processSettings }

    let db: OpaquePointer
    public let interrupter: SQLite3Interrupter
    // The C callbacks reach these through their context pointer; the connection keeps them alive.
    private var authorizer: Unmanaged<Box<(SQLite3AuthorizerRequest) -> SQLite3AuthorizerDecision>>?
    private var progress: Unmanaged<Box<() -> Bool>>?
    private var walHook: Unmanaged<Box<(Int) -> Void>>?

    public init(path: String, flags: OpenFlags) throws(SQLite3Error) {
        _ = processSettings
        var handle: OpaquePointer?
        // SQLite's multi-thread mode: no mutex around each call. A connection belongs to one task
        // or thread at a time (above), so the lock and unlock SQLite's default takes around every
        // bind, step and column read were pure cost: 3.7% of a steady national cycle.
        // `sqlite3_interrupt`, the one call made from elsewhere, is safe in this mode.
        let result = sqlite3_open_v2(path, &handle, flags.rawValue | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(result))
            sqlite3_close_v2(handle)
            throw SQLite3Error(code: result, message: "cannot open \(path): \(message)")
        }
        db = handle
        interrupter = SQLite3Interrupter(handle)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        interrupter.handle.withLock { address in
            sqlite3_close_v2(db)
            address = nil
        }
        authorizer?.release()
        progress?.release()
        walHook?.release()
    }

    var lastError: SQLite3Error {
        SQLite3Error(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)))
    }

    /// Waits up to `milliseconds` for a lock held by another connection instead of failing at once.
    public func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(db, milliseconds)
    }

    /// Frees the page cache's unused pages (`sqlite3_db_release_memory`): what a large
    /// transaction cached is given back instead of kept until the connection closes.
    public func releaseMemory() {
        sqlite3_db_release_memory(db)
    }

    /// Runs statements that return no rows (PRAGMA, BEGIN, ...).
    public func execute(_ sql: String) throws(SQLite3Error) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw lastError }
    }

    /// Compiles exactly one statement; text after it other than blanks and comments is an error,
    /// so that a second statement is never silently dropped.
    public func prepare(_ sql: String) throws(SQLite3Error) -> SQLite3Statement {
        var statement: OpaquePointer?
        var rest = ""
        let result: Int32 = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let result = sqlite3_prepare_v3(db, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if let tail { rest = String(cString: tail) }
            return result
        }
        guard result == SQLITE_OK else { throw lastError }
        guard let statement else { throw SQLite3Error(code: SQLITE_MISUSE, message: "the text holds no SQL statement") }
        if try containsStatement(rest) {
            sqlite3_finalize(statement)
            throw SQLite3Error(code: SQLITE_MISUSE, message: "more than one statement: only one query may be given, "
                               + "and it ends before '\(rest.trimmingCharacters(in: CharacterSet(charactersIn: " \n\t;")).prefix(40))'")
        }
        return SQLite3Statement(statement, connection: self)
    }

    /// Whether text holds a statement (not only blanks, `;` and comments). Compiling it would
    /// run the authorizer and may fail on what follows; only whether SQLite finds a statement matters.
    private func containsStatement(_ text: String) throws(SQLite3Error) -> Bool {
        var remaining = text
        while !remaining.isEmpty {
            var statement: OpaquePointer?
            var next = ""
            let result: Int32 = remaining.withCString { pointer in
                var tail: UnsafePointer<CChar>?
                let result = sqlite3_prepare_v2(db, pointer, -1, &statement, &tail)
                if let tail { next = String(cString: tail) }
                return result
            }
            sqlite3_finalize(statement)
            if result != SQLITE_OK || statement != nil { return true }
            if next.utf8.count >= remaining.utf8.count { return false }
            remaining = next
        }
        return false
    }

    /// Consulted for every action while a statement is prepared; nil removes it.
    public func setAuthorizer(_ decide: ((SQLite3AuthorizerRequest) -> SQLite3AuthorizerDecision)?) {
        authorizer?.release()
        authorizer = decide.map { Unmanaged.passRetained(Box($0)) }
        guard let authorizer else { sqlite3_set_authorizer(db, nil, nil); return }
        sqlite3_set_authorizer(db, { context, action, first, second, database, trigger in
            let decide = Unmanaged<Box<(SQLite3AuthorizerRequest) -> SQLite3AuthorizerDecision>>.fromOpaque(context!).takeUnretainedValue().value
            let request = SQLite3AuthorizerRequest(action: action, first: first.map { String(cString: $0) },
                                                   second: second.map { String(cString: $0) },
                                                   database: database.map { String(cString: $0) },
                                                   trigger: trigger.map { String(cString: $0) })
            switch decide(request) {
            case .allow: return SQLITE_OK
            case .deny: return SQLITE_DENY
            case .ignore: return SQLITE_IGNORE
            }
        }, authorizer.toOpaque())
    }

    /// Calls `committed` with the number of frames in the write-ahead log after each commit, in
    /// place of SQLite's automatic checkpoint, which the commit would otherwise run itself.
    public func setWALHook(_ committed: @escaping (Int) -> Void) {
        walHook?.release()
        let hook = Unmanaged.passRetained(Box(committed))
        walHook = hook
        sqlite3_wal_hook(db, { context, _, _, frames in
            Unmanaged<Box<(Int) -> Void>>.fromOpaque(context!).takeUnretainedValue().value(Int(frames))
            return SQLITE_OK
        }, hook.toOpaque())
    }

    /// Copies what it can of the write-ahead log into the database without waiting for readers or
    /// the writer (`SQLITE_CHECKPOINT_PASSIVE`). Another checkpoint under way is not an error.
    public func checkpoint() throws(SQLite3Error) {
        let result = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        guard result == SQLITE_OK || result == SQLITE_BUSY else { throw lastError }
    }

    /// `PRAGMA data_version`: moves whenever another connection commits to the file (read within
    /// a transaction, it takes the transaction's snapshot).
    public func dataVersion() throws(SQLite3Error) -> Int64? {
        let statement = try prepare("PRAGMA data_version")
        return try statement.step() ? statement.int64(0) : nil
    }

    /// Called about every `instructions` virtual machine steps of a running statement; returning
    /// true interrupts it. nil removes it.
    public func setProgressHandler(every instructions: Int32, _ shouldStop: (() -> Bool)?) {
        progress?.release()
        progress = shouldStop.map { Unmanaged.passRetained(Box($0)) }
        guard let progress else { sqlite3_progress_handler(db, 0, nil, nil); return }
        sqlite3_progress_handler(db, instructions, { context in
            Unmanaged<Box<() -> Bool>>.fromOpaque(context!).takeUnretainedValue().value() ? 1 : 0
        }, progress.toOpaque())
    }
}

/// A compiled statement: bind a row of values, step, read columns by index (0-based), reset to
/// run again.
public final class SQLite3Statement {
    let statement: OpaquePointer
    // Keeps the connection open as long as one of its statements lives.
    let connection: SQLite3Connection

    fileprivate init(_ statement: OpaquePointer, connection: SQLite3Connection) {
        self.statement = statement
        self.connection = connection
    }

    /// The bytes of the text and blobs that ``bind(_:)`` bound last, which SQLite reads in place
    /// (`SQLITE_STATIC`) until the statement is bound again, reset with its bindings cleared or
    /// finalized. Binding each with `SQLITE_TRANSIENT` had SQLite allocate, copy and free every
    /// one: 18% of the state writer's time in a national first cycle (issue 21).
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    deinit {
        sqlite3_finalize(statement)
        scratch.deallocate()
    }

    /// True when the statement cannot change the database file (`sqlite3_stmt_readonly`).
    public var isReadOnly: Bool { sqlite3_stmt_readonly(statement) != 0 }

    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(statement)) }

    /// Binds `values` to the parameters, one each, in order. Their text and blobs are copied once
    /// into the statement's own buffer; the bindings hold until the next `bind(_:)`, a reset that
    /// clears them, or the end of the statement. A zero-length text or blob is bound as itself,
    /// not as NULL.
    public func bind(_ values: [SQLite3Value]) throws(SQLite3Error) {
        // A statement under way still reads the last row's bytes, which this row would write over
        // (SQLite itself refuses such a bind, but only once the bytes are already overwritten).
        guard sqlite3_stmt_busy(statement) == 0 else {
            throw SQLite3Error(code: SQLITE_MISUSE, message: "a statement was bound again before it was reset")
        }
        // A parameter not bound again would read bytes this row writes over.
        guard values.count == parameterCount else {
            throw SQLite3Error(code: SQLITE_RANGE, message: "\(values.count) values bound to a statement of \(parameterCount) parameters")
        }
        var bytes = 1
        for value in values {
            switch value {
            case .text(let s): bytes += s.utf8.count
            case .blob(let b): bytes += b.count
            case .null, .integer, .real: break
            }
        }
        if scratch.count < bytes {
            // Parameters not in `values` may still point into the old buffer.
            sqlite3_clear_bindings(statement)
            scratch.deallocate()
            scratch = .allocate(byteCount: max(bytes, 2 * scratch.count), alignment: 8)
        }
        let base = scratch.baseAddress!
        var offset = 0
        var position: Int32 = 0
        for value in values {
            position += 1
            let result: Int32
            switch value {
            case .null: result = sqlite3_bind_null(statement, position)
            case .integer(let i): result = sqlite3_bind_int64(statement, position, i)
            case .real(let d): result = sqlite3_bind_double(statement, position, d)
            case .text(var s):
                let start = base + offset
                let count = s.withUTF8 { utf8 in
                    if let source = utf8.baseAddress { start.copyMemory(from: source, byteCount: utf8.count) }
                    return utf8.count
                }
                offset += count
                result = sqlite3_bind_text(statement, position, start.assumingMemoryBound(to: CChar.self), Int32(count), nil)
            case .blob(let b):
                let start = base + offset
                b.withUnsafeBytes { if let source = $0.baseAddress { start.copyMemory(from: source, byteCount: $0.count) } }
                offset += b.count
                result = sqlite3_bind_blob(statement, position, start, Int32(b.count), nil)
            }
            guard result == SQLITE_OK else {
                let error = connection.lastError
                sqlite3_clear_bindings(statement)
                throw error
            }
        }
    }

    /// Advances to the next row: true when there is one, false when the statement is done.
    public func step() throws(SQLite3Error) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.lastError
        }
    }

    /// Makes the statement ready to run again; bindings stay unless cleared.
    public func reset(clearingBindings: Bool = true) {
        sqlite3_reset(statement)
        if clearingBindings { sqlite3_clear_bindings(statement) }
    }

    public var columnCount: Int { Int(sqlite3_column_count(statement)) }

    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(statement, Int32(index)).map { String(cString: $0) } ?? ""
    }

    public func isNull(_ index: Int) -> Bool { sqlite3_column_type(statement, Int32(index)) == SQLITE_NULL }

    /// The storage class of the column's value in the current row.
    public enum ColumnType: Sendable { case integer, real, text, blob, null }

    public func type(_ index: Int) -> ColumnType {
        switch sqlite3_column_type(statement, Int32(index)) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    /// The column's text as UTF-8 bytes, valid only inside `body`: read without making a String
    /// (a store reader parses most of its dates this way).
    public func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let bytes = sqlite3_column_text(statement, Int32(index))
        let count = Int(sqlite3_column_bytes(statement, Int32(index)))
        return try body(UnsafeBufferPointer(start: bytes, count: bytes == nil ? 0 : count))
    }
    public func int64(_ index: Int) -> Int64 { sqlite3_column_int64(statement, Int32(index)) }
    public func double(_ index: Int) -> Double { sqlite3_column_double(statement, Int32(index)) }

    public func text(_ index: Int) -> String {
        withText(index) { String(decoding: $0, as: UTF8.self) }
    }

    /// The column's text as SQLite holds it, valid only inside `body`.
    public func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let bytes = sqlite3_column_text(statement, Int32(index)) else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, Int32(index)))))
    }

    /// The column's bytes as SQLite holds them, valid only inside `body`.
    public func withBlob<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let position = Int32(index)
        let bytes = sqlite3_column_blob(statement, position)
        let count = Int(sqlite3_column_bytes(statement, position))
        return try body(UnsafeBufferPointer(start: bytes?.assumingMemoryBound(to: UInt8.self), count: bytes == nil ? 0 : count))
    }

    /// The column's value in its stored type.
    public func value(_ index: Int) -> SQLite3Value {
        let position = Int32(index)
        switch sqlite3_column_type(statement, position) {
        case SQLITE_INTEGER: return .integer(int64(index))
        case SQLITE_FLOAT: return .real(double(index))
        case SQLITE_TEXT: return .text(text(index))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, position))
            guard let bytes = sqlite3_column_blob(statement, position), count > 0 else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}

final class Box<Value> {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension SQLite3Connection {
    /// Functions a read-only query has no business calling: they load code or touch files (the
    /// last three exist only in the sqlite3 shell, named here in case a build adds them).
    public static let deniedFunctions: Set<String> = ["load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"]

    /// An authorizer that lets a statement read tables and call ordinary functions, and denies
    /// everything else: writes, schema changes, ATTACH and DETACH, every PRAGMA, transactions.
    public static func readOnlyAuthorizer(_ request: SQLite3AuthorizerRequest) -> SQLite3AuthorizerDecision {
        switch request.action {
        case SQLITE_SELECT, SQLITE_READ, SQLITE_RECURSIVE:
            return .allow
        case SQLITE_FUNCTION:
            return deniedFunctions.contains((request.second ?? "").lowercased()) ? .deny : .allow
        default:
            return .deny
        }
    }

    /// What a request asks for, for messages: "ATTACH '/tmp/x'", "PRAGMA writable_schema", "the function load_extension()".
    public static func describe(_ request: SQLite3AuthorizerRequest) -> String {
        let names: [Int32: String] = [
            SQLITE_ATTACH: "ATTACH", SQLITE_DETACH: "DETACH", SQLITE_PRAGMA: "PRAGMA", SQLITE_INSERT: "INSERT INTO",
            SQLITE_UPDATE: "UPDATE", SQLITE_DELETE: "DELETE FROM", SQLITE_TRANSACTION: "a transaction statement",
            SQLITE_CREATE_TABLE: "CREATE TABLE", SQLITE_DROP_TABLE: "DROP TABLE", SQLITE_ALTER_TABLE: "ALTER TABLE",
            SQLITE_CREATE_VTABLE: "a virtual table", SQLITE_ANALYZE: "ANALYZE",
        ]
        if request.action == SQLITE_FUNCTION { return "the function \(request.second ?? "?")()" }
        let name = names[request.action] ?? "action \(request.action)"
        return [name, request.first].compactMap { $0 }.joined(separator: " ")
    }
}
