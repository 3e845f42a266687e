import CheckKit
import Foundation
import Testing
@testable import NTMSpreadsheet

@Suite struct ReaderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/xlsx")

    static func rows(_ name: String) throws -> [SheetRow] {
        let reader = try WorkbookReader(path: fixtures.appendingPathComponent(name).path)
        var rows: [SheetRow] = []
        try reader.readRows(of: reader.sheets[0]) { rows.append($0) }
        return rows
    }

    @Test func openpyxlCellsOfEveryType() throws {
        let row = try #require(try Self.rows("openpyxl-types.xlsx").last)
        #expect(row.number == 2)
        #expect(row.cells[0] == .text("Tiếng Việt có dấu"))
        #expect(row.cells[1] == .number(1_500_000_000))
        #expect(row.cells[2] == .number(92.5))
        #expect(row.cells[3] == .bool(true))
        // Serial 61 in the 1900 system: 1 March 1900, past the leap day that never was.
        #expect(row.cells[4] == .date(CivilDate(year: 1900, month: 3, day: 1)!, secondOfDay: 0))
        #expect(row.cells[5] == .date(CivilDate(year: 2024, month: 2, day: 29)!, secondOfDay: 16 * 3600 + 30 * 60))
        #expect(row.cells[6] == .formulaWithoutValue("B2*2"))
    }

    @Test func the1904DateSystem() throws {
        #expect(try Self.rows("openpyxl-1904.xlsx").last?.cells[0] == .date(CivilDate(year: 2024, month: 9, day: 20)!, secondOfDay: 0))
    }

    @Test func serialDates() {
        func date(_ serial: Double, _ uses1904: Bool = false) -> String? {
            DateSystem.date(serial: serial, uses1904: uses1904).map { "\($0.date) \($0.second)" }
        }
        #expect(date(59) == "1900-02-28 0")
        #expect(date(60) == nil)
        #expect(date(61) == "1900-03-01 0")
        #expect(date(45555.5) == "2024-09-20 43200")
        #expect(date(0, true) == "1904-01-01 0")
        #expect(DateSystem.serial(CivilDate(year: 2024, month: 9, day: 20)!) == 45555)
        #expect(DateSystem.serial(CivilDate(year: 1900, month: 2, day: 28)!) == 59)
    }

    @Test func dateFormats() {
        #expect(NumberFormat.isDate(id: 14, code: nil))
        #expect(NumberFormat.isDate(id: 164, code: "dd/mm/yyyy"))
        #expect(NumberFormat.isDate(id: 165, code: "[$-42A]d mmmm yyyy;@"))
        #expect(!NumberFormat.isDate(id: 3, code: nil))
        #expect(!NumberFormat.isDate(id: 166, code: "#,##0\" đ\""))
        #expect(!NumberFormat.isDate(id: 167, code: "[Red]0.00"))
        #expect(!NumberFormat.isDate(id: 168, code: "#,##0;[Red]-#,##0"))
    }

    @Test func cellReferences() {
        #expect(CellReference.column(0) == "A")
        #expect(CellReference.column(25) == "Z")
        #expect(CellReference.column(26) == "AA")
        #expect(CellReference.column(701) == "ZZ")
        #expect(CellReference.parse("AB17")! == (27, 17))
    }

    @Test func writtenCellsReadBack() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString).xlsx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try WorkbookWriter.write([.init(name: "Dữ liệu", rows: [
            [.text("a & <b> \"c\""), .number(1_234_567, .amount), .date(CivilDate(year: 2025, month: 6, day: 30)!), .text("bell\u{7}")],
        ])], to: path)
        let reader = try WorkbookReader(path: path)
        var cells: [Int: CellValue] = [:]
        try reader.readRows(of: reader.sheets[0]) { cells = $0.cells }
        #expect(cells[0] == .text("a & <b> \"c\""))
        #expect(cells[1] == .number(1_234_567))
        #expect(cells[2] == .date(CivilDate(year: 2025, month: 6, day: 30)!, secondOfDay: 0))
        #expect(cells[3] == .text("bell\u{7}"))
    }
}
