import Foundation
import NTMSQLite
import Testing

/// Issue 21: the state's multi-row inserts, each inside the step's transaction, kept the pages
/// they changed in temporary files once past 64 KiB: 400 MB written to /var/tmp in a national
/// first cycle. NTMSQLite keeps statement journals in memory.
@Suite struct StatementJournalTests {
    /// SQLite's temporary files this process holds open (unlinked as soon as made, but open).
    static func temporaryFiles() -> Set<String> {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.contains("etilqs_") })
    }

    /// The temporary files opened while a transaction fills a table with `rows` rows of `size`
    /// bytes and then changes every row in one statement (one page per row, so a journal of about
    /// `rows` pages), seen before it commits.
    static func filesOpenedRewriting(rows: Int, size: Int) throws -> Set<String> {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntmwatch-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let connection = try SQLite3Connection(path: "\(folder)/state.sqlite", flags: [.readWrite, .create])
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        let before = temporaryFiles()
        try connection.execute("BEGIN IMMEDIATE")
        try connection.execute("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows)) INSERT INTO t (v) SELECT randomblob(\(size)) FROM n
            """)
        // Every row again, in one statement that a NOT NULL failure would have to undo alone.
        try connection.execute("UPDATE t SET v = randomblob(\(size))")
        let opened = temporaryFiles().subtracting(before)
        try connection.execute("COMMIT")
        return opened
    }

    @Test func theProcessSettingsTookEffect() throws {
        _ = try SQLite3Connection(path: ":memory:", flags: [.readWrite, .create])
        #expect(SQLite3Connection.settingsNotApplied.isEmpty)
    }

    /// 300 pages, 1.2 MB of journal, in memory. Another test's sort may open a temporary file of
    /// its own at the same moment; a journal file would be there at every attempt.
    @Test func aStatementChangingManyPagesInATransactionOpensNoTemporaryFile() throws {
        try #require(FileManager.default.fileExists(atPath: "/proc/self/fd"))
        var attempts: [Set<String>] = []
        for _ in 0..<3 {
            attempts.append(try Self.filesOpenedRewriting(rows: 300, size: 2000))
            if attempts.last!.isEmpty { break }
        }
        #expect(attempts.last!.isEmpty, "temporary files: \(attempts)")
    }
}
