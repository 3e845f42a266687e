import CheckKit
import Foundation
import Testing
@testable import NTMStore

/// An import never loses a value it was not given, and refuses what it cannot read whole, saying
/// where: absent columns, empty cells, short and long rows, cut files, numbers, encodings.
@Suite struct ImportKeepsValuesTests {
    static let obligations = "id,title_vi,title_en,schedule,status\nOB-1,Báo cáo,Report,2024-10-30,cancelled\nOB-2,Hồ sơ,Dossier,2024-11-30,open\n"

    func status(_ scratch: ScratchStore, _ id: String) async throws -> String? {
        try await scratch.store.withConnection(.readOnly) { connection in
            try await connection.sql.raw("SELECT status FROM obligations WHERE id = \(bind: id)").first()?.decode(column: "status", as: String.self)
        }
    }

    func title(_ scratch: ScratchStore, _ id: String) async throws -> String? {
        try await scratch.store.withConnection(.readOnly) { connection in
            try await connection.sql.raw("SELECT title_en FROM obligations WHERE id = \(bind: id)").first()?.decode(column: "title_en", as: String.self)
        }
    }

    @Test func aReimportWithoutTheStatusColumnKeepsACancelledObligationCancelled() async throws {
        let scratch = try await ScratchStore()
        let importer = Importer(store: scratch.store)
        _ = try await importer.importFile(.obligations, path: try scratch.write("obligations.csv", Self.obligations))
        // The same duties again from another sheet, with a corrected title and no status column.
        let again = try await importer.importFile(.obligations, path: try scratch.write(
            "obligations.csv", "id,title_vi,title_en,schedule\nOB-1,Báo cáo,Monthly report,2024-10-30\nOB-3,Mới,New,2024-12-30\n"))
        #expect(again.updated == 1 && again.inserted == 1)
        #expect(try await status(scratch, "OB-1") == "cancelled")
        #expect(try await title(scratch, "OB-1") == "Monthly report")
        #expect(try await status(scratch, "OB-3") == "open")          // a new row takes the default
        // JSON alike: a key left out keeps the value.
        _ = try await importer.importFile(.obligations, path: try scratch.write(
            "obligations.json", #"[{"id": "OB-1", "title_vi": "Báo cáo", "title_en": "Report", "schedule": "2024-10-30"}]"#))
        #expect(try await status(scratch, "OB-1") == "cancelled")
        await scratch.remove()
    }

    @Test func anEmptyCellClearsTheValueInCSVAndJSONAlike() async throws {
        let scratch = try await ScratchStore()
        let importer = Importer(store: scratch.store)
        let withBasis = "id,title_vi,title_en,schedule,legal_basis\nOB-1,Báo cáo,Report,2024-10-30,002 IV.7\n"
        _ = try await importer.importFile(.obligations, path: try scratch.write("obligations.csv", withBasis))
        func basis() async throws -> String? {
            try await scratch.store.withConnection(.readOnly) { connection in
                try await connection.sql.raw("SELECT legal_basis FROM obligations WHERE id = 'OB-1'").first()?.decode(column: "legal_basis", as: String?.self)
            }
        }
        _ = try await importer.importFile(.obligations, path: try scratch.write("obligations.csv", "id,title_vi,title_en,schedule,legal_basis\nOB-1,Báo cáo,Report,2024-10-30,\n"))
        #expect(try await basis() == nil)
        _ = try await importer.importFile(.obligations, path: try scratch.write("obligations.csv", withBasis))
        _ = try await importer.importFile(.obligations, path: try scratch.write(
            "obligations.json", #"[{"id": "OB-1", "title_vi": "Báo cáo", "title_en": "Report", "schedule": "2024-10-30", "legal_basis": null}]"#))
        #expect(try await basis() == nil)
        await scratch.remove()
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let row: Int?
        let column: String?
        let says: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "a short row", text: "id,title_vi,title_en,schedule,status\nOB-1,Báo cáo,Report,2024-10-30,open\nOB-2,Hồ sơ,Dossier\n",
                row: 3, column: "schedule", says: "dòng có 3 ô nhưng tiêu đề có 5 cột; thiếu: schedule, status"),
        Refusal(name: "a long row", text: "id,title_vi,title_en,schedule\nOB-1,Báo cáo, tháng,Report,2024-10-30\n",
                row: 2, column: nil, says: "dòng có 5 ô nhưng tiêu đề chỉ có 4 cột"),
        Refusal(name: "a file cut inside a quoted cell", text: "id,title_vi,title_en,schedule\nOB-1,\"Báo cáo, tháng,Report,2024-10-30\nOB-2,Hồ sơ,Dossier,2024-11-30\n",
                row: 2, column: nil, says: "dấu ngoặc kép mở ở dòng 2 không được đóng"),
        Refusal(name: "a file cut mid-row", text: "id,title_vi,title_en,schedule\nOB-1,Báo cáo,Report,2024-10-30\nOB-2,Hồ s",
                row: 3, column: "title_en", says: "thiếu: title_en, schedule"),
    ]

    @Test(arguments: refusals)
    func aRowThatDoesNotFitTheHeaderIsRefusedWithItsPlace(_ example: Refusal) async throws {
        let scratch = try await ScratchStore()
        let path = try scratch.write("obligations.csv", example.text)
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.obligations, path: path)
        }
        let problem = try #require(error?.problems.first)
        #expect(problem.row == example.row)
        #expect(problem.column == example.column)
        #expect(problem.reason.vi.contains(example.says), "\(problem.reason.vi)")
        #expect(try await scratch.count("obligations") == 0)
        await scratch.remove()
    }

    @Test(arguments: ["0x10", "1e3", "inf", "nan", "1,2,3", "1.5.2", "--5"])
    func aNumberIsDecimalDigitsOnly(_ written: String) async throws {
        #expect(RowValidator.number(written) == nil)
        let scratch = try await ScratchStore()
        let path = try scratch.write("targets.csv", "id,indicator,title_vi,title_en,target,unit,by_date\nT1,share,Tỷ lệ,Share,\"\(written)\",xã,2025-12-31\n")
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.targets, path: path)
        }
        #expect(error?.problems.first?.column == "target")
        await scratch.remove()
    }

    @Test func decimalNumbersStillRead() {
        #expect(RowValidator.number("92,5") == 92.5)
        #expect(RowValidator.number("92.5") == 92.5)
        #expect(RowValidator.number("-3") == -3)
        #expect(RowValidator.number("80 %") == 80)
        #expect(RowValidator.number("16") == 16)
    }

    @Test func aFileThatIsNotUTF8NamesTheLine() async throws {
        let scratch = try await ScratchStore()
        var data = Data("id,title_vi,title_en,schedule\nOB-1,Báo cáo,Report,2024-10-30\n".utf8)
        data.append(contentsOf: [0x4F, 0x42, 0x2D, 0x32, 0x2C, 0x48, 0xF4, 0x20, 0x73, 0xF5, 0x2C, 0x44, 0x2C, 0x32, 0x0A])   // Windows-1258 "Hô sõ"
        let path = (scratch.folder as NSString).appendingPathComponent("obligations.csv")
        try data.write(to: URL(fileURLWithPath: path))
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.obligations, path: path)
        }
        #expect(error?.problems.first?.row == 3)
        #expect(error?.message(in: .vi).contains("dòng 3 không phải văn bản UTF-8") == true)
        await scratch.remove()
    }

    /// SQLite imports bind through NTMSQLite, which bound text only up to its first NUL; the
    /// store keeps a cell as written (SQLite only: PostgreSQL refuses NUL in text).
    @Test func aCellHoldingANULIsStoredWhole() async throws {
        let scratch = try await ScratchStore()
        let path = try scratch.write("units.csv", "id,name,level\nQNA,Quảng\u{0}Nam,province\n")
        _ = try await Importer(store: scratch.store).importFile(.units, path: path)
        let bytes = try await scratch.store.withConnection(.readOnly) { connection in
            try await connection.sql.raw("SELECT length(CAST(name AS BLOB)) AS n FROM units").first()!.decode(column: "n", as: Int.self)
        }
        #expect(bytes == "Quảng\u{0}Nam".utf8.count)
        await scratch.remove()
    }

    @Test func aHugeValueIsCutInTheMessage() async throws {
        let scratch = try await ScratchStore()
        let huge = String(repeating: "x", count: 1_000_000)
        let path = try scratch.write("targets.csv", "id,indicator,title_vi,title_en,target,unit,by_date\nT1,share,Tỷ lệ,Share,\(huge),xã,2025-12-31\n")
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.targets, path: path)
        }
        let message = try #require(error?.message(in: .vi))
        #expect(message.count < 1_000)
        #expect(message.contains("(1000000 ký tự/characters)"))
        await scratch.remove()
    }

    @Test func quotedCellsKeepCommasLineBreaksAndQuotes() throws {
        let rows = try CSVRows.parse("a,b\n\"x, y\",\"line 1\nline 2\"\n \"say \"\"hi\"\"\" , plain \n", delimiter: ",")
        #expect(rows.map(\.row) == [1, 2, 3])
        #expect(rows[1].fields == ["x, y", "line 1\nline 2"])
        #expect(rows[2].fields == ["say \"hi\"", "plain"])
        #expect(try CSVRows.parse("a;b\r\n1;2", delimiter: ";").map(\.fields) == [["a", "b"], ["1", "2"]])
    }
}

/// Cells are read as Foundation would trim and normalize them, without going through it for
/// every cell: blanks (space, tab, no-break space) around an unquoted cell go, a quoted cell keeps
/// its spaces, and text typed in decomposed form (NFD) is stored composed (NFC).
@Suite struct CSVCellTests {
    @Test func unquotedCellsLoseTheirBlanksQuotedOnesKeepThem() throws {
        let rows = try CSVRows.parse("a,b,c\n \u{00A0}OB-1\t ,\"  Hồ sơ  \",\t\n", delimiter: ",")
        #expect(rows[1].fields == ["OB-1", "  Hồ sơ  ", ""])
    }

    /// A file's shape is checked without making its text: the same rows, the same fields, empty
    /// where the text pass finds them empty (blanks, an empty quoted cell), not where a quoted
    /// cell keeps its spaces.
    @Test func theShapePassSeesTheRowsAndFieldsTheTextPassReads() throws {
        let text = "a,b,c\n \u{00A0}\t , \"\" ,x\n\"  \",,\n\"q\"\"\",\"line\nbreak\", end \r\n,,\n"
        var texts = CSVRows.Parser(text, delimiter: ","), shapes = CSVRows.Parser(text, delimiter: ",")
        var rows = 0
        while let row = try texts.next() {
            let shape = try #require(try shapes.nextShape())
            #expect(shape.row == row.row)
            #expect(shape.fields == row.fields.map { $0.isEmpty ? "" : "-" })
            rows += 1
        }
        #expect(try shapes.nextShape() == nil)
        #expect(rows == 5)
    }

    @Test func decomposedTextIsStoredComposedAndASCIIAsItIs() {
        let decomposed = "Tie\u{0302}n La\u{0303}nh"
        #expect(NameKey.nfc(decomposed) == "Tiên Lãnh")
        #expect(NameKey.nfc(decomposed).unicodeScalars.count == "Tiên Lãnh".unicodeScalars.count)
        #expect(NameKey.nfc("QNA.TP.TL") == "QNA.TP.TL")
    }
}
