import Testing
@testable import NTMStore

/// The duplicate-key check keeps a fingerprint per key in its own table: it must tell apart the
/// keys `Cell`'s equality tells apart, and name the first row of each key, past any table size.
@Suite struct KeyIndexTests {
    @Test func eachKeyIsSeenOnceAndARepeatNamesItsFirstRow() {
        var index = KeyIndex()   // the smallest table: 5,000 keys make it grow several times
        let keys: [[Cell?]] = (0..<5_000).map { [.text("C\($0 % 50)"), .integer(Int64($0 / 50)), $0 % 7 == 0 ? nil : .text(String(repeating: "x", count: $0 % 200))] }
        for (row, key) in keys.enumerated() { #expect(index.firstRow(of: key, at: [0, 1, 2], absent: [.null, .null, .null], row: row + 2) == nil) }
        for (row, key) in keys.enumerated().reversed() { #expect(index.firstRow(of: key, at: [0, 1, 2], absent: [.null, .null, .null], row: 9_999) == row + 2) }
    }

    @Test func keysThatOnlyLookAlikeAreDistinct() {
        var index = KeyIndex()
        let distinct: [[Cell?]] = [
            [.text("ab"), .text("c")], [.text("a"), .text("bc")], [.text(""), .text("abc")], [.text("abc"), .null],
            [.integer(1), .null], [.text("1"), .null], [.number(1), .null], [nil, .text("abc")],
        ]
        for (row, key) in distinct.enumerated() { #expect(index.firstRow(of: key, at: [0, 1], absent: [.null, .null], row: row + 1) == nil, "\(key)") }
        // A key cell the row does not give is its `absent` value (NULL here); 0.0 and -0.0 are equal.
        #expect(index.firstRow(of: [.null, .text("abc")], at: [0, 1], absent: [.null, .null], row: 100) == 8)
        #expect(index.firstRow(of: [.number(0), .null], at: [0, 1], absent: [.null, .null], row: 101) == nil)
        #expect(index.firstRow(of: [.number(-0.0), .null], at: [0, 1], absent: [.null, .null], row: 102) == 101)
    }

    /// A key cell a row leaves out is the value it is stored with: the same key as a row that
    /// gives that value (a JSON object without `unit_id` and one with `"unit_id": null`).
    @Test func anAbsentKeyCellIsItsStoredValue() {
        var index = KeyIndex()
        #expect(index.firstRow(of: [.text("OB-1"), nil], at: [0, 1], absent: [.null, .text("")], row: 2) == nil)
        #expect(index.firstRow(of: [.text("OB-1"), .text("")], at: [0, 1], absent: [.null, .text("")], row: 3) == 2)
        #expect(index.firstRow(of: [.text("OB-1"), .null], at: [0, 1], absent: [.null, .text("")], row: 4) == nil)
    }
}
