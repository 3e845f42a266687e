import CheckKit
import CSQLite3
import Foundation
import NTMSQLite
@testable import NTMStore
import Synchronization
import Testing

/// The store reader on SQLite reads through NTMSQLite, row by row (issue 21): its queries stop at
/// `store.query_timeout` and when their task is cancelled, as on PostgreSQL, and a value of the
/// wrong type is named with its column.
@Suite struct SQLiteSnapshotTests {
    static let forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"

    /// Before, SQLite reads had no timeout at all: this query counted for ever.
    @Test(arguments: Backend.available)
    func aRunawayReadStopsAtTheQueryTimeout(_ backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        let store = Store(location: scratch.store.location, queryTimeout: .milliseconds(300))
        let started = ContinuousClock.now
        let failure = await #expect(throws: (any Error).self) {
            try await store.withReader(asOf: Date()) { try await $0.query(Self.forever, parameters: []) }
        }
        // Uninterrupted, the query never ends: the bound only tells the two apart.
        #expect(ContinuousClock.now - started < .seconds(30))
        let text = "\(failure.map { "\($0)" } ?? "")"
        #expect(text.contains(backend == .sqlite ? "store.query_timeout" : "statement timeout"), "\(text)")
        await scratch.remove()
    }

    /// SQLite's allocation statistics took a process-wide mutex around every allocation (4% of a
    /// national first cycle's recording); NTMSQLite turns them off before its first connection.
    /// With them on, a connection and a table would count hundreds of kilobytes here.
    @Test func sqliteKeepsNoAllocationStatistics() throws {
        let connection = try SQLite3Connection(path: ":memory:", flags: [.readWrite, .create])
        try connection.execute("CREATE TABLE t (x TEXT); INSERT INTO t VALUES (hex(randomblob(100000)))")
        #expect(sqlite3_memory_used() == 0)
    }

    /// Rows ordered by a key repeat the long texts beside it (a set's id on each of 1.9 million
    /// assessments, issue 21): a text equal to the row before's in its column is that row's
    /// string, not a new copy, and any other text, even of the same length, is its own.
    @Test func aRepeatedLongTextIsSharedAndEveryTextIsReadAsStored() throws {
        let connection = try SQLite3Connection(path: ":memory:", flags: [.readWrite, .create])
        let texts: [String?] = ["xa-ntm-2021-2025", "xa-ntm-2021-2025", "xa-ntm-2021-2026", "xa-ntm-2021-2025", nil,
                                "abc", "abc", "Xã Đại Chánh, huyện Đại Lộc", "Xã Đại Chánh, huyện Đại Lộc", "xa-ntm-2021-2025"]
        try connection.execute("CREATE TABLE t (n INTEGER, x TEXT)")
        for (index, text) in texts.enumerated() {
            try connection.execute("INSERT INTO t VALUES (\(index), \(text.map { "'\($0)'" } ?? "NULL"))")
        }
        let statement = try connection.prepare("SELECT x FROM t ORDER BY n")
        let row = NativeRow(statement)
        var read: [String?] = []
        while try statement.step() { read.append(try row.text("x")) }
        #expect(read == texts)
        func storage(_ index: Int) -> UnsafeRawPointer? {
            var text = read[index]!
            return text.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        #expect(storage(0) == storage(1))
        #expect(storage(7) == storage(8))
        #expect(storage(1) != storage(2) && storage(2) != storage(3))
    }

    @Test func cancellingAReadInterruptsItsQuery() async throws {
        let scratch = try await ScratchStore(.sqlite)
        let store = Store(location: scratch.store.location, queryTimeout: .seconds(3600))
        let started = ContinuousClock.now
        let read = Task { try await store.withReader(asOf: Date()) { try await $0.query(Self.forever, parameters: []) } }
        try await Task.sleep(for: .milliseconds(200))
        read.cancel()
        await #expect(throws: CancellationError.self) { _ = try await read.value }
        #expect(ContinuousClock.now - started < .seconds(30))
        await scratch.remove()
    }

    @Test func aValueOfTheWrongTypeIsNamedWithItsColumn() async throws {
        let scratch = try await ScratchStore(.sqlite)
        try await scratch.store.withConnection(.readWrite) { connection in
            for statement in [
                "INSERT INTO units (id, name, level) VALUES ('X1', 'Xã Một', 'commune')",
                "INSERT INTO criteria_sets (id, name_vi, name_en, unit_level, tier, valid_from) VALUES ('S', 'Bộ', 'Set', 'commune', 'ntm', '2021-01-01')",
                // A shared store written past the import: text where a number belongs.
                "INSERT INTO assessments VALUES ('X1', 'S', '1', '2024-01-01', 1, 'cao', NULL)",
            ] { try await connection.sql.raw("\(unsafeRaw: statement)").run() }
        }
        let failure = await #expect(throws: ReaderRow.BadColumn.self) {
            try await scratch.store.withReader(asOf: Date()) { try await $0.assessments() }
        }
        #expect(failure?.description == "the store's column value holds \"cao\", not a number")
        await scratch.remove()
    }

    /// Operators' queries give each value in its stored type, and bind their parameters.
    @Test func anOperatorsQueryGivesStoredTypesAndBindsParameters() async throws {
        let scratch = try await ScratchStore(.sqlite)
        let rows = try await scratch.store.withReader(asOf: Date()) {
            try await $0.query("SELECT ? AS t, ? AS i, ? AS r, NULL AS n, x'00' AS b", parameters: [.text("a"), .integer(7), .percent(92.5)])
        }
        #expect(rows == [StoreRow(columns: ["t", "i", "r", "n", "b"], values: [.text("a"), .integer(7), .number(92.5), nil, nil])])
        await #expect(throws: ReadOnlyQuery.ParameterCountMismatch.self) {
            try await scratch.store.withReader(asOf: Date()) { try await $0.query("SELECT ?", parameters: []) }
        }
        await scratch.remove()
    }

    /// A store of `units` communes, each with two criteria assessed on two days, one of them
    /// after `asOf` (left out when read as of it).
    static func assessed(units: Int) async throws -> ScratchStore {
        let scratch = try await ScratchStore(.sqlite)
        let connection = try SQLite3Connection(path: try #require(scratch.sqlitePath), flags: [.readWrite])
        try connection.execute("""
            INSERT INTO criteria_sets (id, name_vi, name_en, unit_level, tier, valid_from) VALUES ('S', 'Bộ', 'Set', 'commune', 'ntm', '2021-01-01');
            BEGIN
            """)
        for unit in 1...units {
            let id = String(format: "X%03d", unit)
            try connection.execute("INSERT INTO units (id, name, level) VALUES ('\(id)', 'Xã \(unit)', 'commune')")
            for code in ["1", "2"] {
                try connection.execute("""
                    INSERT INTO assessments VALUES ('\(id)', 'S', '\(code)', '2024-01-0\(code)', \(unit % 2), \(unit).5, 'QĐ \(unit)'),
                                                   ('\(id)', 'S', '\(code)', '2030-01-01', 1, NULL, NULL)
                    """)
            }
        }
        try connection.execute("COMMIT")
        return scratch
    }

    static let asOf = CivilDate("2025-01-01")!.startInstant()

    /// The assessments, the longest read of a national cycle, are read in two halves at once on
    /// two connections (issue 21): together they are the one query's rows in its order, and the
    /// queries issued are logged as issued, the split first.
    @Test func theAssessmentsAreReadInTwoHalvesAtOnceAsTheOneQueryGivesThem() async throws {
        let scratch = try await Self.assessed(units: 31)
        let path = try #require(scratch.sqlitePath)
        let expected = try Self.plainAssessments(path)
        #expect(expected.count == 62)
        let snapshot = try SQLiteSnapshot(path: path, timeout: .seconds(60))
        let log = QueryLog()
        let read = try await SQLStoreReader(.sqlite(snapshot), asOf: Self.asOf, log: log).assessments()
        snapshot.end()
        #expect(read.map(Self.row) == expected)
        #expect(snapshot.partnerSharesTheSnapshot == true)
        let queries = log.queries
        #expect(queries.count == 3)
        #expect(queries.first?.sql.contains("OFFSET") == true)
        // 124 rows with the later ones, 4 a unit: the second half starts at the 16th unit.
        #expect(queries.dropFirst().map(\.parameters) == [["2025-01-01", "X016"], ["2025-01-01", "X016"]])
        #expect(queries.dropFirst().map { $0.sql.contains("unit_id < ?") } == [true, false])
        await scratch.remove()
    }

    /// The halves are written into one array with room for the table: the first from its start,
    /// the second from the middle, then moved down. With no row left out by the date, the key
    /// unit (the 16th of 31, four rows each) starts two rows before the middle, so the first half
    /// ends two short of it and the second has two rows more than its room.
    @Test func theHalvesMeetInOneArrayWhenTheKeyUnitStraddlesTheMiddle() async throws {
        let scratch = try await Self.assessed(units: 31)
        let path = try #require(scratch.sqlitePath)
        let expected = try Self.plainAssessments(path, through: "2031-01-01")
        #expect(expected.count == 124)
        let snapshot = try SQLiteSnapshot(path: path, timeout: .seconds(60))
        let read = try await SQLStoreReader(.sqlite(snapshot), asOf: CivilDate("2031-01-01")!.startInstant()).assessments()
        snapshot.end()
        #expect(snapshot.partnerSharesTheSnapshot == true)
        #expect(read.map(Self.row) == expected)
        await scratch.remove()
    }

    /// A half that fails (a value `make` refuses, a timeout, a cancellation) leaves no row of
    /// either half alive: both were written into memory the array had not yet taken as its own.
    @Test(arguments: ["X003", "X016", "X031"])
    func aHalfThatFailsLeavesNoRowBehind(_ failing: String) async throws {
        let scratch = try await Self.assessed(units: 31)
        let path = try #require(scratch.sqlitePath)
        let snapshot = try SQLiteSnapshot(path: path, timeout: .seconds(60))
        let tally = Tally()
        let split = """
            WITH n (rows) AS MATERIALIZED (SELECT count(*) FROM assessments)
            SELECT rows, (SELECT unit_id FROM assessments ORDER BY unit_id LIMIT 1 OFFSET (SELECT rows FROM n) / 2) FROM n
            """
        func half(_ range: String) -> String {
            "SELECT unit_id FROM assessments WHERE assessed_on <= ? AND unit_id \(range) ? ORDER BY unit_id, set_id, criterion_code, assessed_on"
        }
        await #expect(throws: Refused.self) {
            _ = try await snapshot.rowsInHalves(split: split, below: half("<"), from: half(">="), [.text("2031-01-01")]) { row in
                let unit = row.statement.text(0)
                if unit == failing {
                    // Only once some row exists, or "no row left alive" would hold of nothing:
                    // X016 is the first row of the second half, and under load the first half
                    // could be stopped before it made one (seen in a full parallel test run).
                    let deadline = ContinuousClock.now + .seconds(10)
                    while tally.made.load(ordering: .relaxed) == 0, ContinuousClock.now < deadline { usleep(1000) }
                    throw Refused()
                }
                return Counted(unit, tally)
            }
        }
        #expect(tally.live.load(ordering: .relaxed) == 0)
        #expect(tally.made.load(ordering: .relaxed) > 0)
        // And without a failure every row is there, once.
        let rows = try await snapshot.rowsInHalves(split: split, below: half("<"), from: half(">="), [.text("2031-01-01")]) {
            Counted($0.statement.text(0), tally)
        }.rows
        snapshot.end()
        withExtendedLifetime(rows) {
            #expect(rows.map(\.unit) == (1...31).flatMap { Array(repeating: String(format: "X%03d", $0), count: 4) })
            #expect(tally.live.load(ordering: .relaxed) == 124)
        }
        await scratch.remove()
    }

    struct Refused: Error {}

    final class Tally: Sendable {
        let live = Atomic<Int>(0)
        let made = Atomic<Int>(0)
    }

    /// A row that counts itself alive.
    final class Counted: Sendable {
        let unit: String
        let tally: Tally
        init(_ unit: String, _ tally: Tally) {
            self.unit = unit; self.tally = tally
            tally.live.add(1, ordering: .relaxed)
            tally.made.add(1, ordering: .relaxed)
        }
        deinit { tally.live.subtract(1, ordering: .relaxed) }
    }

    /// Debian's SQLite cannot open a second connection on a given snapshot, so the partner
    /// checks it reads the same one. A commit after the snapshot was taken (here between a
    /// check's first read and its assessments) leaves the partner out: both halves come from the
    /// first connection, as of its snapshot. Read on the partner, the second half would hold
    /// the new row and the changed value.
    @Test func aCommitAfterTheSnapshotKeepsBothHalvesOnIt() async throws {
        let scratch = try await Self.assessed(units: 20)
        let path = try #require(scratch.sqlitePath)
        let expected = try Self.plainAssessments(path)
        let snapshot = try SQLiteSnapshot(path: path, timeout: .seconds(60))
        // The snapshot is taken by its first query.
        #expect(try await snapshot.rows("SELECT count(*) FROM units", []) { $0.statement.int64(0) } == [20])
        let writer = try SQLite3Connection(path: path, flags: [.readWrite])
        try writer.execute("""
            INSERT INTO units (id, name, level) VALUES ('X999', 'Xã mới', 'commune');
            INSERT INTO assessments VALUES ('X999', 'S', '1', '2024-06-01', 1, NULL, NULL);
            UPDATE assessments SET value = 0 WHERE unit_id = 'X020'
            """)
        let read = try await SQLStoreReader(.sqlite(snapshot), asOf: Self.asOf).assessments()
        snapshot.end()
        #expect(read.map(Self.row) == expected)
        #expect(snapshot.partnerSharesTheSnapshot == false)
        // A reader after the commit sees it.
        #expect(try Self.plainAssessments(path).count == expected.count + 1)
        await scratch.remove()
    }

    static func row(_ assessment: Assessment) -> String {
        "\(assessment.unitID)|\(assessment.setID)|\(assessment.criterionCode)|\(assessment.assessedOn)|\(assessment.met)|"
            + "\(assessment.value.map { "\($0)" } ?? "-")|\(assessment.source ?? "-")"
    }

    /// The rows as one plain query gives them, in the reader's order.
    static func plainAssessments(_ path: String, through day: String = "2025-01-01") throws -> [String] {
        let connection = try SQLite3Connection(path: path, flags: [.readOnly])
        let statement = try connection.prepare("""
            SELECT unit_id, set_id, criterion_code, assessed_on, met, value, source FROM assessments
            WHERE assessed_on <= '\(day)' ORDER BY unit_id, set_id, criterion_code, assessed_on
            """)
        var rows: [String] = []
        while try statement.step() {
            let value = statement.type(5) == .null ? "-" : "\(statement.double(5))"
            let source = statement.type(6) == .null ? "-" : statement.text(6)
            rows.append("\(statement.text(0))|\(statement.text(1))|\(statement.text(2))|\(statement.text(3))|\(statement.int64(4) != 0)|\(value)|\(source)")
        }
        return rows
    }
}
