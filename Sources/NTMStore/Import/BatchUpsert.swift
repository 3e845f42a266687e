/// Writes validated rows a batch at a time: the batch's keys are looked up first, then its new
/// rows are inserted, then only rows whose given columns differ from the stored ones are updated.
/// A statement per row through sql-kit (a SELECT and an INSERT) held the import at a few thousand
/// rows a second; on PostgreSQL the round trip is the cost, so a batch is one query each way
/// there, and on SQLite the statements are prepared once (``ImportDatabase``).
///
/// Compares with the stored row first, so that re-importing a file changes nothing and the report
/// can say what did change. Only the columns a row gives are compared and written: an absent
/// column keeps the stored value. The validator has already refused duplicate keys in a file, so
/// a batch never holds one key twice.
///
/// A table that held no row when its file began holds only that file's rows, whose keys are
/// distinct: nothing can be found, so nothing is looked up. A first import into a new store (a
/// national one: 2.9 M rows) spent a lookup per row for nothing.
struct BatchUpsert {
    let table: String
    let spec: KindSpec
    let database: any ImportDatabase
    private(set) var inserted = 0, updated = 0, unchanged = 0
    private var batch: [ImportRow] = []
    private let batchSize: Int
    private let columns: [String]
    private let keyPositions: [Int]
    private let startsEmpty: Bool

    init(table: String, spec: KindSpec, database: any ImportDatabase) async throws {
        self.table = table
        self.spec = spec
        self.database = database
        startsEmpty = try await database.isEmpty(table)
        columns = spec.columns
        keyPositions = spec.keyPositions
        // Well under both backends' limit on parameters in one statement (SQLite 32,766 since
        // 3.32, PostgreSQL 65,535), with room for the widest kind.
        batchSize = max(1, min(500, 16_000 / max(1, spec.fields.count)))
    }

    mutating func add(_ row: ImportRow) async throws {
        batch.append(row)
        if batch.count >= batchSize { try await flush() }
    }

    mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        let rows = batch
        batch.removeAll(keepingCapacity: true)
        let stored = startsEmpty ? Array(repeating: nil, count: rows.count)
            : try await database.find(in: table, fields: spec.fields, keyColumns: spec.key, keys: rows.map(key))
        var inserts: [[Cell]] = []
        var updates: [(row: ImportRow, changed: [Int])] = []
        for (row, existing) in zip(rows, stored) {
            guard let existing else {
                inserts.append(spec.fields.indices.map { row.cells[$0] ?? spec.fields[$0].defaultValue })
                continue
            }
            var changed: [Int] = []
            for (position, cell) in row.cells.enumerated() {
                if let given = cell, existing[position] != given, !keyPositions.contains(position) { changed.append(position) }
            }
            if changed.isEmpty { unchanged += 1 } else { updates.append((row, changed)) }
        }
        // Inserts before updates: an updated row may name a parent that this batch adds.
        if !inserts.isEmpty { try await database.insert(into: table, columns: columns, rows: inserts) }
        for (row, changed) in updates {
            try await database.update(table, columns: changed.map { columns[$0] }, values: changed.map { row.cells[$0] ?? .null },
                                      keyColumns: spec.key, key: key(of: row))
        }
        inserted += inserts.count
        updated += updates.count
    }

    /// A key column the file leaves out is its default, as the row is inserted: a completion
    /// without `unit_id` is stored with `''`, and looked up as NULL it was never found again (a
    /// second import of the Hà Tĩnh sample inserted it twice and failed on the primary key).
    private func key(of row: ImportRow) -> [Cell] { keyPositions.map { row.cells[$0] ?? spec.fields[$0].defaultValue } }
}
