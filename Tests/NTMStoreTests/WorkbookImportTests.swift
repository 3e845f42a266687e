import CheckKit
import Foundation
import NTMSpreadsheet
@testable import NTMWorkbooks
import Testing
@testable import NTMStore

/// `.xlsx` import: workbooks written by openpyxl and LibreOffice (Tests/Fixtures/xlsx/make.py) and
/// by our own writer, through the same validation and transaction as CSV.
@Suite struct WorkbookImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/xlsx")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    func surveys(_ store: ScratchStore) async throws -> [String: String] {
        try await store.store.withConnection(.readOnly) { connection in
            var found: [String: String] = [:]
            for row in try await connection.sql.raw("SELECT id, unit_id, surveyed_on, satisfied FROM surveys").all() {
                found[try row.text("id")] = "\(try row.text("unit_id")) \(try row.text("surveyed_on")) \(try row.decode(column: "satisfied", as: Int.self))"
            }
            return found
        }
    }

    @Test(arguments: ["openpyxl-workbook.xlsx", "libreoffice-surveys.xlsx"])
    func aToolsWorkbookImportsEverySheetInDependencyOrder(_ name: String) async throws {
        let scratch = try await ScratchStore()
        defer { Task { await scratch.remove() } }
        let reports = try await Importer(store: scratch.store).importWorkbook(Self.fixture(name))
        // Units before surveys although the surveys name their commune; the hidden sheet is ignored.
        #expect(reports.map(\.kind) == [.units, .surveys])
        #expect(try await scratch.count("units") == 4)
        // Below two merged title rows; a date cell, and 29/02/2024 (a leap day) kept as such.
        #expect(try await surveys(scratch) == ["KS-DC-2024": "20107 2024-09-20 37", "KS-DT-2024": "20108 2024-02-29 101"])
    }

    @Test func aFormulaWithoutACachedValueIsAnErrorAtItsCell() async throws {
        let scratch = try await ScratchStore()
        defer { Task { await scratch.remove() } }
        _ = try await Importer(store: scratch.store).importWorkbook(Self.fixture("openpyxl-workbook.xlsx"), sheet: "Đơn vị")
        let error = try await #require(throws: WorkbookImportError.self) {
            try await Importer(store: scratch.store).importWorkbook(Self.fixture("openpyxl-formula.xlsx"))
        }
        #expect(error.problems.map(\.place) == ["Khảo sát!F2"])
        #expect(error.message(in: .vi).contains("Khảo sát!F2"))
        #expect(try await scratch.count("surveys") == 0)
    }

    /// A workbook with good units and a bad survey: the error names the sheet and cell, nothing is
    /// written (not even the units), and the error workbook marks that cell.
    @Test func oneBadCellImportsNothingAndIsLocatedAsTheUserSeesIt() async throws {
        let scratch = try await ScratchStore()
        defer { Task { await scratch.remove() } }
        let path = (scratch.folder as NSString).appendingPathComponent("book.xlsx")
        try WorkbookWriter.write([
            .init(name: "units", rows: [
                ["id", "name", "level", "parent_id"].map { .text($0) },
                [.text("QNA"), .text("Quảng Nam"), .text("province"), .empty],
                [.text("QNA.TL"), .text("Tiên Lãnh"), .text("commune"), .text("QNA")],
            ]),
            .init(name: "Khảo sát", rows: [
                [.text("Báo cáo khảo sát")],
                ["Mã khảo sát", "Xã", "Ngày khảo sát", "Loại khảo sát", "Số người được hỏi", "Số người hài lòng"].map { .text($0) },
                [.text("S1"), .text("Tiên Lãnh"), .date(CivilDate(year: 2024, month: 9, day: 1)!), .text("ntm_results"), .number(40), .number(37)],
                [.text("S2"), .text("Tiên Lãnh"), .date(CivilDate(year: 2024, month: 9, day: 2)!), .text("ntm_results"), .number(40), .number(41)],
                [.text("S3"), .empty, .date(CivilDate(year: 2024, month: 9, day: 3)!), .text("ntm_results"), .number(40), .number(30)],
            ]),
        ], to: path)
        let error = try await #require(throws: WorkbookImportError.self) {
            try await Importer(store: scratch.store).importWorkbook(path)
        }
        #expect(Set(error.problems.map(\.place)) == ["Khảo sát!F4", "Khảo sát!B5"])
        #expect(try await scratch.count("units") == 0)

        let marked = (scratch.folder as NSString).appendingPathComponent("book-errors.xlsx")
        try ErrorWorkbook.write(source: path, notes: error.cellNotes, to: marked)
        // Still the same workbook to a reader: same sheets, same values (B5 now exists, empty).
        let before = try WorkbookReader(path: path), after = try WorkbookReader(path: marked)
        #expect(before.sheets.map(\.name) == after.sheets.map(\.name))
        for (old, new) in zip(before.sheets, after.sheets) {
            var oldRows: [[Int: CellValue]] = [], newRows: [[Int: CellValue]] = []
            try before.readRows(of: old) { oldRows.append($0.cells) }
            try after.readRows(of: new) { newRows.append($0.cells) }
            #expect(oldRows == newRows)
        }
    }

    /// The same data as CSV and as a sheet gives the same rows, absent column and empty cell alike.
    @Test func aSheetGivesTheRowsItsCSVGives() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csvPath = folder.appendingPathComponent("obligations.csv").path
        try "id,title_vi,title_en,schedule\nO1,Báo cáo,Report,\nO2,,Report,monthly:20\n".write(toFile: csvPath, atomically: true, encoding: .utf8)
        let book = folder.appendingPathComponent("book.xlsx").path
        try WorkbookWriter.write([.init(name: "Nhiệm vụ", rows: [
            ["id", "title_vi", "title_en", "schedule"].map { .text($0) },
            [.text("O1"), .text("Báo cáo"), .text("Report"), .empty],
            [.text("O2"), .empty, .text("Report"), .text("monthly:20")],
            [],
        ])], to: book)
        let csv = try TabularFile.read(path: csvPath)
        let reader = try WorkbookReader(path: book)
        let sheet = try SheetTable.read(reader, sheet: reader.sheets[0], kind: .obligations, file: book, progress: nil)
        #expect(sheet.file.headers.map(\.key) == csv.headers.map(\.key))
        #expect(try sheet.file.records.all().map(\.values) == csv.records.all().map(\.values))
        #expect(try sheet.file.records.all().map(\.row) == csv.records.all().map(\.row))
        // `status` is absent from both: no row gives it, so the stored value is kept.
        #expect(!sheet.file.headers.contains { $0.key == "status" })
        #expect(try sheet.file.records.all().allSatisfy { $0.values.count == sheet.file.headers.count })
    }

    @Test func theTemplateImportsBackAsNothing() async throws {
        let scratch = try await ScratchStore()
        defer { Task { await scratch.remove() } }
        let path = (scratch.folder as NSString).appendingPathComponent("mau.xlsx")
        try ImportTemplate.write(ImportKind.dependencyOrder, to: path)
        let reports = try await Importer(store: scratch.store).importWorkbook(path)
        #expect(reports.count == ImportKind.allCases.count)
        #expect(reports.allSatisfy { $0.inserted == 0 && $0.updated == 0 })
        let reader = try WorkbookReader(path: path)
        #expect(reader.sheets.map(\.name).contains("Khảo sát"))
    }

    @Test func sheetNamesAreTheKindsInVietnameseOrEnglish() {
        #expect(ImportKind(sheetName: "Khảo sát") == .surveys)
        #expect(ImportKind(sheetName: "khao sat") == .surveys)
        #expect(ImportKind(sheetName: "capital-plans") == .capitalPlans)
        #expect(ImportKind(sheetName: "Nháp") == nil)
        #expect(Set(ImportKind.allCases.map { NameKey.exact($0.sheetName) }).count == ImportKind.allCases.count)
        #expect(ImportKind.allCases.allSatisfy { $0.sheetName.count <= 31 })
    }
}
