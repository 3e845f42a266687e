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
        var writer = BatchUpsert(table: kind.table, spec: spec, sql: connection.sql)
        if kind == .units {
            // Units go in parents first, which takes the whole file (small beside the data files).
            let rows = validator.validate()
            if !validator.problems.isEmpty { throw ImportError(file: file.path, problems: validator.problems) }
            for (index, row) in rows.enumerated() {
                if index % 1024 == 1023 { progress?(kind.rawValue, index + 1, rows.count) }
                try await writer.add(row)
            }
        } else {
            // A record is validated and written as it is read, so a file is never held whole. After
            // the first problem nothing more is written (the transaction is rolled back anyway);
            // the rest is read only to report every problem at once.
            validator.checkHeaders()
            if !validator.problems.isEmpty { throw ImportError(file: file.path, problems: validator.problems) }
            for (index, record) in file.records.enumerated() {
                if index % 1024 == 1023 { progress?(kind.rawValue, index + 1, file.records.count) }
                let row = validator.validate(record)
                if validator.problems.isEmpty { try await writer.add(row) }
            }
            if !validator.problems.isEmpty { throw ImportError(file: file.path, problems: validator.problems) }
        }
        try await writer.flush()
        let (inserted, updated, unchanged) = (writer.inserted, writer.updated, writer.unchanged)
        let report = ImportReport(kind: kind, file: file.path, inserted: inserted, updated: updated,
                                  unchanged: unchanged, dryRun: dryRun)
        try await connection.sql.raw("""
            INSERT INTO import_log (kind, file, imported_at, inserted, updated, unchanged)
            VALUES (\(bind: kind.rawValue), \(bind: file.path), \(bind: StoreTime.format(Date())),
                    \(bind: inserted), \(bind: updated), \(bind: unchanged))
            """).run()
        return report
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
