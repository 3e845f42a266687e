import Foundation
import NTMSQLite
import Testing

/// Issue 21: `SQLite3Statement.bind(_:)` copies a row's text and blobs into the statement's own
/// buffer and has SQLite read them there, rather than SQLite copying each one.
@Suite struct StatementBindingTests {
    static func memory() throws -> SQLite3Connection {
        try SQLite3Connection(path: ":memory:", flags: [.readWrite, .create])
    }

    /// What `values` read back as, bound to one `SELECT` of as many parameters: type and value.
    static func roundTrip(_ statement: SQLite3Statement, _ values: [SQLite3Value]) throws -> [SQLite3Value] {
        defer { statement.reset(clearingBindings: false) }
        try statement.bind(values)
        #expect(try statement.step())
        return (0..<statement.columnCount).map { statement.value($0) }
    }

    @Test func everyKindOfValueReadsBackAsItWasBound() throws {
        let connection = try Self.memory()
        let statement = try connection.prepare("SELECT ?, ?, ?, ?, ?, ?, ?, ?")
        let long = String(repeating: "Nông thôn mới ", count: 500)
        let values: [SQLite3Value] = [.text("xã Tân Hòa"), .text(""), .blob([0, 1, 2, 255]), .blob([]),
                                      .integer(-7), .real(2.5), .null, .text(long)]
        #expect(try Self.roundTrip(statement, values) == values)
    }

    /// A second row of other lengths (a buffer that must grow, then one that need not) reads as
    /// itself, not as the first row's bytes.
    @Test func aStatementBoundAgainReadsTheNewRow() throws {
        let connection = try Self.memory()
        let statement = try connection.prepare("SELECT ?, ?")
        let rows: [[SQLite3Value]] = [
            [.text("ab"), .blob([1, 2])],
            [.text(String(repeating: "x", count: 10_000)), .text("tail")],
            [.text("cd"), .blob([9])],
            [.blob([7, 7, 7]), .text("")],
        ]
        for row in rows { #expect(try Self.roundTrip(statement, row) == row) }
    }

    /// Rows inserted many to a statement, as the state's multi-row inserts are, keep each value.
    @Test func aMultiRowInsertKeepsEveryRowsValues() throws {
        let connection = try Self.memory()
        try connection.execute("CREATE TABLE t (a TEXT, b BLOB)")
        let insert = try connection.prepare("INSERT INTO t VALUES (?, ?), (?, ?), (?, ?)")
        var expected: [[SQLite3Value]] = []
        for chunk in 0..<3 {
            var values: [SQLite3Value] = []
            for row in 0..<3 {
                let pair: [SQLite3Value] = [.text("row \(chunk)-\(row) " + String(repeating: "é", count: chunk * 40 + row)),
                                            .blob(Array(repeating: UInt8(row), count: chunk * 7))]
                values += pair
                expected.append(pair)
            }
            try insert.bind(values)
            #expect(try !insert.step())
            insert.reset()
        }
        let select = try connection.prepare("SELECT a, b FROM t ORDER BY rowid")
        var read: [[SQLite3Value]] = []
        while try select.step() { read.append([select.value(0), select.value(1)]) }
        #expect(read == expected)
    }

    /// A statement under way is not bound again: its row still reads the bytes the last bind
    /// left in the statement's buffer.
    @Test func aStatementUnderWayIsNotBoundAgain() throws {
        let connection = try Self.memory()
        try connection.execute("CREATE TABLE t (a TEXT); INSERT INTO t VALUES ('x'), ('y')")
        let statement = try connection.prepare("SELECT a, ? FROM t")
        try statement.bind([.text("first")])
        #expect(try statement.step())
        #expect(throws: SQLite3Error.self) { try statement.bind([.text(String(repeating: "z", count: 4096))]) }
        #expect(statement.value(1) == .text("first"))
        // The refused row changed nothing: run again, the statement still has the first binding.
        statement.reset(clearingBindings: false)
        #expect(try statement.step() && statement.value(1) == .text("first"))
        statement.reset()
        #expect(try Self.roundTrip(statement, [.text("again")]) == [.text("x"), .text("again")])
    }

    /// Binding fewer or more values than the statement has parameters is refused: a parameter
    /// left from the last row would read bytes the new row has written over.
    @Test func aRowOfTheWrongWidthIsRefused() throws {
        let connection = try Self.memory()
        let statement = try connection.prepare("SELECT ?, ?")
        #expect(throws: SQLite3Error.self) { try statement.bind([.text("only one")]) }
        #expect(throws: SQLite3Error.self) { try statement.bind([.null, .null, .null]) }
        #expect(try Self.roundTrip(statement, [.integer(1), .text("two")]) == [.integer(1), .text("two")])
    }
}
