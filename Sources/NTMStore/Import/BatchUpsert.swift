import SQLKit

/// Writes validated rows a batch at a time: one query finds which of a batch's keys the table
/// holds, one multi-row INSERT adds the new rows, and only rows whose given columns differ from
/// the stored ones are updated. A statement per row (a SELECT and an INSERT) held the import at a
/// few thousand rows a second; the round trip, not the engine, was the cost.
///
/// Compares with the stored row first, so that re-importing a file changes nothing and the report
/// can say what did change. Only the columns a row gives are compared and written: an absent
/// column keeps the stored value. The validator has already refused duplicate keys in a file, so
/// a batch never holds one key twice.
struct BatchUpsert {
    let table: String
    let spec: KindSpec
    let sql: any SQLDatabase
    private(set) var inserted = 0, updated = 0, unchanged = 0
    private var batch: [[String: Cell]] = []
    private let batchSize: Int

    init(table: String, spec: KindSpec, sql: any SQLDatabase) {
        self.table = table
        self.spec = spec
        self.sql = sql
        // Well under both backends' limit on parameters in one statement (SQLite 32,766 since
        // 3.32, PostgreSQL 65,535), with room for the widest kind.
        self.batchSize = max(1, min(500, 16_000 / max(1, spec.fields.count)))
    }

    mutating func add(_ row: [String: Cell]) async throws {
        batch.append(row)
        if batch.count >= batchSize { try await flush() }
    }

    mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        let rows = batch
        batch.removeAll(keepingCapacity: true)
        let stored = try await storedRows(keyedLike: rows)
        var inserts: [[String: Cell]] = []
        var updates: [(row: [String: Cell], changed: [FieldSpec])] = []
        for row in rows {
            guard let existing = stored[key(of: row)] else { inserts.append(row); continue }
            let changed = spec.fields.filter { field in
                guard let given = row[field.column] else { return false }
                return !spec.key.contains(field.column) && existing[field.column] != given
            }
            if changed.isEmpty { unchanged += 1 } else { updates.append((row, changed)) }
        }
        // Inserts before updates: an updated row may name a parent that this batch adds.
        if !inserts.isEmpty { try await insert(inserts) }
        for (row, changed) in updates { try await update(row, changed) }
        inserted += inserts.count
        updated += updates.count
    }

    private func key(of row: [String: Cell]) -> [Cell] { spec.key.map { row[$0, default: .null] } }

    /// The stored rows among a batch's keys, by key, each column read as the file's cell would be.
    private func storedRows(keyedLike rows: [[String: Cell]]) async throws -> [[Cell]: [String: Cell]] {
        let columns = spec.fields.map(\.column).joined(separator: ", ")
        var query = SQLQueryString("SELECT \(unsafeRaw: columns) FROM \(unsafeRaw: table) WHERE ")
        if spec.key.count == 1 {
            query.appendInterpolation(unsafeRaw: spec.key[0])
            query.appendLiteral(" IN (")
            for (index, row) in rows.enumerated() {
                query.appendLiteral(index == 0 ? "" : ", ")
                Self.append(row[spec.key[0], default: .null], to: &query)
            }
        } else {
            // A row value IN a VALUES list: both SQLite (3.15+) and PostgreSQL use the key's index.
            query.appendInterpolation(unsafeRaw: "(\(spec.key.joined(separator: ", "))) IN (VALUES ")
            for (index, row) in rows.enumerated() {
                query.appendLiteral(index == 0 ? "(" : ", (")
                for (position, cell) in key(of: row).enumerated() {
                    query.appendLiteral(position == 0 ? "" : ", ")
                    Self.append(cell, to: &query)
                }
                query.appendLiteral(")")
            }
        }
        query.appendLiteral(")")
        var stored: [[Cell]: [String: Cell]] = [:]
        for row in try await sql.raw(query).all() {
            var cells: [String: Cell] = [:]
            for field in spec.fields { cells[field.column] = Self.read(row, field) }
            stored[spec.key.map { cells[$0, default: .null] }] = cells
        }
        return stored
    }

    private func insert(_ rows: [[String: Cell]]) async throws {
        let columns = spec.fields.map(\.column).joined(separator: ", ")
        var insert = SQLQueryString("INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns)) VALUES ")
        for (index, row) in rows.enumerated() {
            insert.appendLiteral(index == 0 ? "(" : ", (")
            for (position, field) in spec.fields.enumerated() {
                insert.appendLiteral(position == 0 ? "" : ", ")
                Self.append(row[field.column] ?? field.defaultValue, to: &insert)
            }
            insert.appendLiteral(")")
        }
        try await sql.raw(insert).run()
    }

    private func update(_ row: [String: Cell], _ changed: [FieldSpec]) async throws {
        var update = SQLQueryString("UPDATE \(unsafeRaw: table) SET ")
        for (index, field) in changed.enumerated() {
            update.appendLiteral(index == 0 ? "" : ", ")
            update.appendInterpolation(unsafeRaw: field.column)
            update.appendLiteral(" = ")
            Self.append(row[field.column, default: .null], to: &update)
        }
        update.appendLiteral(" WHERE ")
        for (index, column) in spec.key.enumerated() {
            update.appendLiteral(index == 0 ? "" : " AND ")
            update.appendInterpolation(unsafeRaw: column)
            update.appendLiteral(" = ")
            Self.append(row[column, default: .null], to: &update)
        }
        try await sql.raw(update).run()
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
