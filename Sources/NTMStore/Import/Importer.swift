import AsyncAlgorithms
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
        return try await inTransaction(dryRun: dryRun) { database in
            try await Self.load(kind, file: file, on: database, dryRun: dryRun)
        }
    }

    static func load(_ kind: ImportKind, file: TabularFile, on database: any ImportDatabase, dryRun: Bool,
                     progress: ImportProgress? = nil) async throws -> ImportReport {
        let spec = KindSpec.spec(for: kind)
        var validator = try await RowValidator(kind: kind, spec: spec, file: file, database: database)
        var writer = try await BatchUpsert(table: kind.table, spec: spec, database: database)
        if kind == .units {
            // Units go in parents first, which takes the whole file (small beside the data files).
            let rows = try validator.validate()
            if !validator.problems.isEmpty { throw ImportError(file: file.path, problems: validator.problems) }
            for (index, row) in rows.enumerated() {
                if index % 1024 == 1023 { progress?(kind.rawValue, index + 1, rows.count) }
                try await writer.add(row)
            }
        } else {
            // Records are read and checked in a task of their own and written a batch at a time
            // behind it (``checking``), so a file is never held whole. After the first problem
            // nothing more is written (the transaction is rolled back anyway); the rest is read
            // only to report every problem at once.
            validator.checkHeaders()
            if !validator.problems.isEmpty { throw ImportError(file: file.path, problems: validator.problems) }
            var report: (@Sendable (Int, Int?) -> Void)?
            if let progress { report = { [stage = kind.rawValue] done, total in progress(stage, done, total) } }
            func write(_ rows: [ImportRow]) async throws {
                for row in rows { try await writer.add(row) }
            }
            let problems = try await checking(file, with: validator, progress: report, write: write)
            if !problems.isEmpty { throw ImportError(file: file.path, problems: problems) }
        }
        try await writer.flush()
        let (inserted, updated, unchanged) = (writer.inserted, writer.updated, writer.unchanged)
        let report = ImportReport(kind: kind, file: file.path, inserted: inserted, updated: updated,
                                  unchanged: unchanged, dryRun: dryRun)
        let log: [Cell] = [.text(kind.rawValue), .text(file.path), .text(StoreTime.format(Date())),
                           .integer(Int64(inserted)), .integer(Int64(updated)), .integer(Int64(unchanged))]
        try await database.insert(into: "import_log", columns: ["kind", "file", "imported_at", "inserted", "updated", "unchanged"],
                                  rows: [log])
        return report
    }
}

extension Importer {
    /// How many checked rows go to the writer at a time.
    static let handOff = 512

    /// Reads and checks `file`'s records in a task of their own and gives the rows to `write`, in
    /// file order, a few hundred at a time, while the next are read: reading and checking were
    /// two thirds of a national import's time and the writing the rest, one after the other on
    /// one core of two. At most one batch waits between the two (the channel's send waits for
    /// the writer), so memory stays that of a few batches. After the first problem nothing more
    /// is given to `write`; the rest of the file is still read, to report every problem. Returns
    /// the problems. A failed write stops the reading (the group cancels it).
    static func checking(_ file: TabularFile, with validator: RowValidator, progress: (@Sendable (Int, Int?) -> Void)?,
                         write: ([ImportRow]) async throws -> Void) async throws -> [ImportError.Problem] {
        let batches = AsyncThrowingChannel<[ImportRow], any Error>()
        return try await withThrowingTaskGroup(of: [ImportError.Problem].self) { group in
            group.addTask {
                var validator = validator
                do {
                    var records = file.records.reader()
                    var batch: [ImportRow] = []
                    var index = 0
                    while let record = try records.next() {
                        if index % 1024 == 1023 {
                            // After a problem nothing is sent, so the send no longer notices a
                            // failed write or a cancelled import, nor lets other tasks have this
                            // thread (the daemon's pool has one per core): this does.
                            await Task.yield()
                            try Task.checkCancellation()
                            progress?(index + 1, file.records.count)
                        }
                        index += 1
                        let row = validator.validate(record)
                        guard validator.problems.isEmpty else { continue }
                        batch.append(row)
                        if batch.count == handOff {
                            await batches.send(batch)
                            try Task.checkCancellation()
                            batch = []
                        }
                    }
                    if validator.problems.isEmpty && !batch.isEmpty { await batches.send(batch) }
                    batches.finish()
                } catch {
                    batches.fail(error)
                }
                return validator.problems
            }
            for try await rows in batches { try await write(rows) }
            // An iteration cancelled from outside ends early, as if the file had: write nothing more.
            try Task.checkCancellation()
            return try await group.next() ?? []
        }
    }

    /// Imports every `<kind>.csv` or `<kind>.json` of a folder, in dependency order, in one
    /// transaction: one bad file imports nothing. Each file is read when its turn comes and let go
    /// before the next, so a folder is never held whole.
    public func importFolder(_ directory: String, dryRun: Bool = false) async throws -> [ImportReport] {
        var paths: [(ImportKind, String)] = []
        for kind in ImportKind.dependencyOrder {
            for suffix in ["csv", "json"] {
                let path = (directory as NSString).appendingPathComponent("\(kind.rawValue).\(suffix)")
                if FileManager.default.fileExists(atPath: path) { paths.append((kind, path)) }
            }
        }
        return try await importTables(count: paths.count, dryRun: dryRun) { index in
            (paths[index].0, try TabularFile.read(path: paths[index].1))
        }
    }

    /// Imports files in the order given, in one transaction: one refused file imports nothing.
    /// `refusal` makes the error thrown for file `index` (a workbook names the sheet), and
    /// `progress` gives each file's progress report.
    package func importTables(_ files: [(ImportKind, TabularFile)], dryRun: Bool,
                              refusal: (_ index: Int, ImportError) -> any Error = { $1 },
                              progress: (_ index: Int) -> ImportProgress? = { _ in nil }) async throws -> [ImportReport] {
        try await importTables(count: files.count, dryRun: dryRun, refusal: refusal, progress: progress) { files[$0] }
    }

    /// As above, with file `index` made by `file` only when its turn comes.
    private func importTables(count: Int, dryRun: Bool,
                              refusal: (_ index: Int, ImportError) -> any Error = { $1 },
                              progress: (_ index: Int) -> ImportProgress? = { _ in nil },
                              file: (_ index: Int) throws -> (ImportKind, TabularFile)) async throws -> [ImportReport] {
        try await inTransaction(dryRun: dryRun) { database in
            var reports: [ImportReport] = []
            for index in 0..<count {
                do {
                    let (kind, file) = try file(index)
                    reports.append(try await Self.load(kind, file: file, on: database, dryRun: dryRun, progress: progress(index)))
                } catch let error as ImportError {
                    throw refusal(index, error)
                }
            }
            return reports
        }
    }
}
