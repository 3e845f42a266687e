import Foundation
import NTMSQLite
import Testing

/// Issue 21: the state's multi-row inserts, each inside the step's transaction, kept the pages
/// they changed in temporary files once past 64 KiB: 400 MB written to /var/tmp in a national
/// first cycle. Every NTMSQLite connection keeps statement journals in memory.
@Suite struct StatementJournalTests {
    /// SQLite's temporary files this process holds open (unlinked as soon as made, but open).
    static func temporaryFiles() -> Set<String> {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.contains("etilqs_") })
    }

    @Test func aStatementChangingManyPagesInATransactionOpensNoTemporaryFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let connection = try SQLite3Connection(path: "\(folder)/state.sqlite", flags: [.readWrite, .create])
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        let before = Self.temporaryFiles()
        try connection.execute("BEGIN IMMEDIATE")
        try connection.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO t (v) SELECT randomblob(2000) FROM n")
        // Every row again, in one statement that a NOT NULL failure would have to undo alone:
        // 300 changed pages, 1.2 MB of journal.
        try connection.execute("UPDATE t SET v = randomblob(2000)")
        let during = Self.temporaryFiles().subtracting(before)
        try connection.execute("COMMIT")
        #expect(during.isEmpty, "temporary files: \(during)")
    }
}
