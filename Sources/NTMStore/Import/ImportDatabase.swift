import Foundation
import NTMSQLite
import SQLKit

/// The connection an import reads and writes through: the one that holds its transaction, so
/// that everything it reads sees what it wrote and a failure anywhere undoes everything.
///
/// SQLite imports go through NTMSQLite (Debian's libsqlite3), with each statement prepared once
/// and run again with new bindings; PostgreSQL keeps sql-kit. SQLiteNIO, which the rest of the
/// store uses, cannot lend its connection: its handle is internal, and it belongs to the copy of
/// SQLite that SQLiteNIO compiles in (3.53, its symbols renamed `sqlite_nio_*`), which a handle of
/// libsqlite3's API must never be mixed with. So a SQLite import runs whole on one connection
/// of its own. sql-kit serialized every bind into a new query string per batch: a twelfth of an
/// import's time, beside SQLite's own twelfth.
protocol ImportDatabase: AnyObject {
    /// Every row of a query, each of its `columns` as text (nil for NULL).
    func texts(_ query: String, columns: [String]) async throws -> [[String?]]
    /// Whether `table` holds no row.
    func isEmpty(_ table: String) async throws -> Bool
    /// For each key (the values of `keyColumns`), the stored row's `fields`, read as a file's
    /// cells would be; nil where the table has no such row.
    func find(in table: String, fields: [FieldSpec], keyColumns: [String], keys: [[Cell]]) async throws -> [[Cell]?]
    /// Adds rows, each a value for every column, in order.
    func insert(into table: String, columns: [String], rows: [[Cell]]) async throws
    /// Sets `columns` to `values` in the row whose `keyColumns` equal `key`.
    func update(_ table: String, columns: [String], values: [Cell], keyColumns: [String], key: [Cell]) async throws
}

extension Importer {
    /// Runs `body` in one transaction on the connection an import uses: committed when it
    /// returns, rolled back when it throws or for a dry run.
    func inTransaction<T: Sendable>(dryRun: Bool, _ body: (any ImportDatabase) async throws -> T) async throws -> T {
        switch store.location {
        case .sqlite(let path):
            let database = try SQLiteImportDatabase(path: path)
            try database.connection.execute("BEGIN IMMEDIATE")
            do {
                let result = try await body(database)
                try database.connection.execute(dryRun ? "ROLLBACK" : "COMMIT")
                return result
            } catch {
                try? database.connection.execute("ROLLBACK")
                throw error
            }
        case .postgres:
            return try await store.withConnection(.readWrite) { connection in
                try await connection.transaction(dryRun ? .rehearse : .write) {
                    try await body(SQLKitImportDatabase(sql: connection.sql))
                }
            }
        }
    }
}

/// An import on SQLite: prepared statements on one NTMSQLite connection, kept for the import.
final class SQLiteImportDatabase: ImportDatabase {
    let connection: SQLite3Connection
    /// Prepared statements by their text: a handful per table (find, insert, one per set of
    /// changed columns).
    private var statements: [String: SQLite3Statement] = [:]

    /// Opens the store read-write as ``Store`` does (busy timeout, foreign keys, WAL).
    init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        connection = try SQLite3Connection(path: path, flags: [.readWrite, .create])
        connection.setBusyTimeout(milliseconds: 5000)
        try connection.execute("PRAGMA foreign_keys = ON")
        try connection.execute("PRAGMA journal_mode = WAL")
    }

    private func statement(_ sql: String) throws -> SQLite3Statement {
        if let statement = statements[sql] { return statement }
        let statement = try connection.prepare(sql)
        statements[sql] = statement
        return statement
    }

    func texts(_ query: String, columns: [String]) throws -> [[String?]] {
        let statement = try connection.prepare(query)
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append(columns.indices.map { statement.isNull($0) ? nil : statement.text($0) })
        }
        return rows
    }

    func isEmpty(_ table: String) throws -> Bool {
        try !connection.prepare("SELECT 1 FROM \(table) LIMIT 1").step()
    }

    func find(in table: String, fields: [FieldSpec], keyColumns: [String], keys: [[Cell]]) throws -> [[Cell]?] {
        let statement = try statement("SELECT \(fields.map(\.column).joined(separator: ", ")) FROM \(table) WHERE "
                                      + keyColumns.map { "\($0) = ?" }.joined(separator: " AND "))
        return try keys.map { key in
            defer { statement.reset(clearingBindings: false) }
            try statement.bind(key)
            guard try statement.step() else { return nil }
            return fields.indices.map { Self.read(statement, $0, as: fields[$0].type) }
        }
    }

    func insert(into table: String, columns: [String], rows: [[Cell]]) throws {
        let statement = try statement("INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES ("
                                      + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")")
        for row in rows {
            defer { statement.reset(clearingBindings: false) }
            try statement.bind(row)
            _ = try statement.step()
        }
    }

    func update(_ table: String, columns: [String], values: [Cell], keyColumns: [String], key: [Cell]) throws {
        let statement = try statement("UPDATE \(table) SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE "
                                      + keyColumns.map { "\($0) = ?" }.joined(separator: " AND "))
        defer { statement.reset(clearingBindings: false) }
        try statement.bind(values + key)
        _ = try statement.step()
    }

    /// A stored value as sql-kit decoded it on the SQLite path: an integer column's value only
    /// when it is an integer, a number's when it is an integer or a real, text as SQLite writes
    /// any value as text.
    private static func read(_ statement: SQLite3Statement, _ index: Int, as type: FieldType) -> Cell {
        switch statement.value(index) {
        case .null: return .null
        case .integer(let value):
            switch type {
            case .integer, .amount, .flag: return .integer(value)
            case .number: return .number(Double(value))
            default: return .text(String(value))
            }
        case .real(let value):
            switch type {
            case .integer, .amount, .flag: return .null
            case .number: return .number(value)
            default: return .text(String(value))
            }
        case .text(let text):
            switch type {
            case .integer, .amount, .flag, .number: return .null
            default: return .text(text)
            }
        case .blob: return .null
        }
    }
}

extension SQLite3Statement {
    func bind(_ cells: [Cell]) throws(SQLite3Error) {
        try bind(cells.map { cell -> SQLite3Value in
            switch cell {
            case .text(let text): .text(text)
            case .integer(let value): .integer(value)
            case .number(let value): .real(value)
            case .null: .null
            }
        })
    }
}

/// An import on PostgreSQL, through sql-kit: a batch's keys in one query, its new rows in one
/// multi-row INSERT.
final class SQLKitImportDatabase: ImportDatabase {
    let sql: any SQLDatabase

    init(sql: any SQLDatabase) { self.sql = sql }

    func texts(_ query: String, columns: [String]) async throws -> [[String?]] {
        try await sql.raw(SQLQueryString(query)).all().map { row in
            try columns.map { try row.decodeNil(column: $0) ? nil : row.decode(column: $0, as: String.self) }
        }
    }

    func isEmpty(_ table: String) async throws -> Bool {
        try await sql.raw("SELECT 1 AS present FROM \(unsafeRaw: table) LIMIT 1").first() == nil
    }

    func find(in table: String, fields: [FieldSpec], keyColumns: [String], keys: [[Cell]]) async throws -> [[Cell]?] {
        guard !keys.isEmpty else { return [] }
        let columns = fields.map(\.column).joined(separator: ", ")
        var query = SQLQueryString("SELECT \(unsafeRaw: columns) FROM \(unsafeRaw: table) WHERE ")
        if keyColumns.count == 1 {
            query.appendInterpolation(unsafeRaw: keyColumns[0])
            query.appendLiteral(" IN (")
            for (index, key) in keys.enumerated() {
                query.appendLiteral(index == 0 ? "" : ", ")
                Self.append(key[0], to: &query)
            }
        } else {
            // A row value IN a VALUES list: PostgreSQL uses the key's index.
            query.appendInterpolation(unsafeRaw: "(\(keyColumns.joined(separator: ", "))) IN (VALUES ")
            Self.append(rows: keys, to: &query)
        }
        query.appendLiteral(")")
        let keyPositions = keyColumns.map { column in fields.firstIndex { $0.column == column }! }
        var stored: [[Cell]: [Cell]] = [:]
        for row in try await sql.raw(query).all() {
            let cells = fields.map { Self.read(row, $0) }
            stored[keyPositions.map { cells[$0] }] = cells
        }
        return keys.map { stored[$0] }
    }

    func insert(into table: String, columns: [String], rows: [[Cell]]) async throws {
        guard !rows.isEmpty else { return }
        var insert = SQLQueryString("INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns.joined(separator: ", "))) VALUES ")
        Self.append(rows: rows, to: &insert)
        try await sql.raw(insert).run()
    }

    func update(_ table: String, columns: [String], values: [Cell], keyColumns: [String], key: [Cell]) async throws {
        var update = SQLQueryString("UPDATE \(unsafeRaw: table) SET ")
        for (index, column) in columns.enumerated() {
            update.appendLiteral(index == 0 ? "" : ", ")
            update.appendInterpolation(unsafeRaw: column)
            update.appendLiteral(" = ")
            Self.append(values[index], to: &update)
        }
        update.appendLiteral(" WHERE ")
        for (index, column) in keyColumns.enumerated() {
            update.appendLiteral(index == 0 ? "" : " AND ")
            update.appendInterpolation(unsafeRaw: column)
            update.appendLiteral(" = ")
            Self.append(key[index], to: &update)
        }
        try await sql.raw(update).run()
    }

    /// `(a, b), (c, d)`: each row a parenthesized list of binds.
    private static func append(rows: [[Cell]], to query: inout SQLQueryString) {
        for (index, row) in rows.enumerated() {
            query.appendLiteral(index == 0 ? "(" : ", (")
            for (position, cell) in row.enumerated() {
                query.appendLiteral(position == 0 ? "" : ", ")
                append(cell, to: &query)
            }
            query.appendLiteral(")")
        }
    }

    private static func append(_ cell: Cell, to query: inout SQLQueryString) {
        switch cell {
        case .text(let s): query.appendInterpolation(bind: s)
        case .integer(let i): query.appendInterpolation(bind: i)
        case .number(let d): query.appendInterpolation(bind: d)
        case .null: query.appendInterpolation(SQLLiteral.null)
        }
    }

    private static func read(_ row: any SQLRow, _ field: FieldSpec) -> Cell {
        let column = field.column
        if (try? row.decodeNil(column: column)) ?? true { return .null }
        switch field.type {
        case .integer, .amount, .flag:
            return (try? row.decode(column: column, as: Int64.self)).map(Cell.integer) ?? .null
        case .number:
            return (try? row.decode(column: column, as: Double.self)).map(Cell.number) ?? .null
        default:
            return (try? row.decode(column: column, as: String.self)).map(Cell.text) ?? .null
        }
    }
}
