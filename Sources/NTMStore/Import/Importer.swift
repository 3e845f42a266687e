import CheckKit
import Foundation
import SQLKit

/// What an import changed (or, for a dry run, would change).
public struct ImportReport: Sendable, Equatable {
    public let kind: ImportKind
    public let file: String
    public let inserted: Int
    public let updated: Int
    public let unchanged: Int
    public let dryRun: Bool
}

/// Reports progress of a long import: rows done and, when known, the expected total.
public typealias ImportProgress = @Sendable (_ stage: String, _ done: Int, _ total: Int?) -> Void

/// Validates a whole file, then writes it in one transaction: a bad row imports nothing.
public struct Importer: Sendable {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Columns every kind accepts and ignores: people keep notes beside their data.
    package static let ignoredHeaders = Set(["ghi chú", "note", "notes", "stt", "#"].map(TabularFile.headerKey))
    /// A parent unit's name or id, to tell apart two communes of the same name.
    package static let parentHeaders = Set(["parent", "district", "huyện", "tên huyện", "cấp trên"].map(TabularFile.headerKey))

    public func importFile(_ kind: ImportKind, path: String, dryRun: Bool = false) async throws -> ImportReport {
        let file = try TabularFile.read(path: path)
        return try await store.withConnection(.readWrite) { connection in
            try await connection.transaction(dryRun ? .rehearse : .write) {
                try await Self.load(kind, file: file, on: connection, dryRun: dryRun)
            }
        }
    }

    package static func load(_ kind: ImportKind, file: TabularFile, on connection: StoreConnection, dryRun: Bool,
                     progress: ImportProgress? = nil) async throws -> ImportReport {
        let spec = KindSpec.spec(for: kind)
        var validator = try await RowValidator(kind: kind, spec: spec, file: file, connection: connection)
        let rows = validator.validate()
        if !validator.problems.isEmpty { throw ImportError(file: file.path, problems: validator.problems) }

        var inserted = 0, updated = 0, unchanged = 0
        for (index, row) in rows.enumerated() {
            if index % 1024 == 1023 { progress?(kind.rawValue, index + 1, rows.count) }
            switch try await upsert(row, into: kind.table, spec: spec, on: connection.sql) {
            case .inserted: inserted += 1
            case .updated: updated += 1
            case .unchanged: unchanged += 1
            }
        }
        let report = ImportReport(kind: kind, file: file.path, inserted: inserted, updated: updated,
                                  unchanged: unchanged, dryRun: dryRun)
        try await connection.sql.raw("""
            INSERT INTO import_log (kind, file, imported_at, inserted, updated, unchanged)
            VALUES (\(bind: kind.rawValue), \(bind: file.path), \(bind: StoreTime.format(Date())),
                    \(bind: inserted), \(bind: updated), \(bind: unchanged))
            """).run()
        return report
    }

    enum Outcome { case inserted, updated, unchanged }

    /// Compares with the stored row first, so that re-importing a file changes nothing and the
    /// report can say what did change.
    static func upsert(_ row: [String: Cell], into table: String, spec: KindSpec, on sql: any SQLDatabase) async throws -> Outcome {
        let columns = spec.fields.map(\.column)
        var select = SQLQueryString("SELECT \(unsafeRaw: columns.joined(separator: ", ")) FROM \(unsafeRaw: table) WHERE ")
        appendKeyCondition(&select, row: row, key: spec.key)
        if let existing = try await sql.raw(select).first() {
            // Only the columns the file gives: an absent column keeps the stored value.
            let changed = spec.fields.filter { field in
                guard let given = row[field.column] else { return false }
                return !spec.key.contains(field.column) && read(existing, field) != given
            }
            guard !changed.isEmpty else { return .unchanged }
            var update = SQLQueryString("UPDATE \(unsafeRaw: table) SET ")
            for (index, field) in changed.enumerated() {
                update.appendLiteral(index == 0 ? "" : ", ")
                update.appendInterpolation(unsafeRaw: field.column)
                update.appendLiteral(" = ")
                append(row[field.column, default: .null], to: &update)
            }
            update.appendLiteral(" WHERE ")
            appendKeyCondition(&update, row: row, key: spec.key)
            try await sql.raw(update).run()
            return .updated
        }
        var insert = SQLQueryString("INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns.joined(separator: ", "))) VALUES (")
        for (index, field) in spec.fields.enumerated() {
            insert.appendLiteral(index == 0 ? "" : ", ")
            append(row[field.column] ?? field.defaultValue, to: &insert)
        }
        insert.appendLiteral(")")
        try await sql.raw(insert).run()
        return .inserted
    }

    private static func appendKeyCondition(_ query: inout SQLQueryString, row: [String: Cell], key: [String]) {
        for (index, column) in key.enumerated() {
            query.appendLiteral(index == 0 ? "" : " AND ")
            query.appendInterpolation(unsafeRaw: column)
            query.appendLiteral(" = ")
            append(row[column, default: .null], to: &query)
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

extension Importer {
    /// Imports every `<kind>.csv` or `<kind>.json` of a folder, in dependency order, in one
    /// transaction: one bad file imports nothing.
    public func importFolder(_ directory: String, dryRun: Bool = false) async throws -> [ImportReport] {
        var files: [(ImportKind, TabularFile)] = []
        for kind in ImportKind.dependencyOrder {
            for suffix in ["csv", "json"] {
                let path = (directory as NSString).appendingPathComponent("\(kind.rawValue).\(suffix)")
                if FileManager.default.fileExists(atPath: path) { files.append((kind, try TabularFile.read(path: path))) }
            }
        }
        return try await store.withConnection(.readWrite) { connection in
            try await connection.transaction(dryRun ? .rehearse : .write) {
                var reports: [ImportReport] = []
                for (kind, file) in files {
                    reports.append(try await Self.load(kind, file: file, on: connection, dryRun: dryRun))
                }
                return reports
            }
        }
    }
}
