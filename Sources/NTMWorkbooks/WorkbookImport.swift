import CheckKit
import Foundation
import NTMSpreadsheet
import NTMStore

extension ImportKind {
    /// The sheet name of the kind in a workbook (Vietnamese; the English kind name is accepted too).
    public var sheetName: String {
        switch self {
        case .units: "Đơn vị"
        case .unitParents: "Cấp trên theo thời gian"
        case .unitSuccessions: "Kế thừa đơn vị"
        case .criteriaSets: "Bộ tiêu chí"
        case .criteria: "Tiêu chí"
        case .assessments: "Đánh giá"
        case .recognitions: "Công nhận"
        case .roadmap: "Lộ trình"
        case .submissions: "Hồ sơ"
        case .obligations: "Nhiệm vụ"
        case .completions: "Hoàn thành"
        case .projects: "Dự án"
        case .disbursements: "Giải ngân dự án"
        case .debts: "Nợ đọng"
        case .repaymentPlans: "Kế hoạch trả nợ"
        case .capitalPlans: "Kế hoạch vốn"
        case .capitalDisbursements: "Giải ngân vốn"
        case .reallocationReports: "Báo cáo điều chuyển"
        case .surveys: "Khảo sát"
        case .targets: "Chỉ tiêu"
        }
    }

    /// The kind a sheet's name stands for: its Vietnamese name (with or without diacritics) or the
    /// English kind name.
    public init?(sheetName: String) {
        let exact = NameKey.exact(sheetName), folded = NameKey.folded(sheetName)
        guard let kind = ImportKind.allCases.first(where: {
            NameKey.exact($0.sheetName) == exact || $0.rawValue == exact || NameKey.folded($0.sheetName) == folded
        }) else { return nil }
        self = kind
    }
}

/// A problem in a workbook, at the cell the user sees: `Khảo sát!E17`.
public struct WorkbookProblem: Sendable, Hashable {
    public let sheet: String
    /// 0-based column and 1-based row of the cell, when the problem has one.
    public let column: Int?
    public let row: Int?
    public let problem: ImportError.Problem

    public var place: String {
        guard let row else { return sheet }
        return "\(sheet)!\(column.map { CellReference.cell(column: $0, row: row) } ?? String(row))"
    }
}

/// Why a workbook import was refused. Nothing was written.
public struct WorkbookImportError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let problems: [WorkbookProblem]

    public func message(in language: Language) -> String {
        let columnWord = language == .vi ? "cột" : "column"
        return ImportError.listing(problems, in: language) { located in
            var place = located.place
            if let column = located.problem.column { place += " (\(columnWord) '\(column)')" }
            if let value = located.problem.value { place += " ('\(ImportError.shortened(value))')" }
            return "\(file): \(place): \(located.problem.reason.text(in: language))"
        }
    }

    public var description: String { message(in: .en) }

    /// The notes an error workbook puts on the cells (Vietnamese, as the users read it).
    public var cellNotes: [CellNote] {
        problems.compactMap { located in
            guard let row = located.row, let column = located.column else { return nil }
            return CellNote(sheet: located.sheet, column: column, row: row, text: located.problem.reason.vi)
        }
    }
}

/// One sheet read as the rows a CSV of it would give, with what is needed to point back at cells.
struct SheetTable {
    let kind: ImportKind
    let sheet: String
    let file: TabularFile
    let headerRow: Int
    /// Normalized header → 0-based column.
    let columnOfKey: [String: Int]
    let width: Int
    /// Problems found while reading (formulas never calculated, values outside the header).
    let problems: [WorkbookProblem]

    /// The sheet cell a validation problem refers to.
    func locate(_ problem: ImportError.Problem) -> WorkbookProblem {
        // Header problems are reported on row 1, which no data row can have: data rows follow the header.
        let row = problem.row.map { $0 == 1 ? headerRow : $0 }
        var column: Int?
        if let name = problem.column {
            let first = String(name.split(separator: "+").first ?? "")
            let spec = KindSpec.spec(for: kind)
            let keys = spec.fields.first { $0.column == first }?.headerKeys ?? [TabularFile.headerKey(first)]
            column = keys.lazy.compactMap { columnOfKey[$0] }.first
            // A missing column: point at the first free header cell, where it belongs.
            if column == nil, row == headerRow { column = width }
        }
        return WorkbookProblem(sheet: sheet, column: column ?? (row == nil ? nil : 0), row: row, problem: problem)
    }

    /// Marks in the `STT` column of a template's description and example rows.
    static let templateMarks = Set(["mô tả", "ví dụ", "description", "example"])

    static func read(_ reader: WorkbookReader, sheet: WorkbookReader.Sheet, kind: ImportKind, file: String,
                     progress: ImportProgress?) throws -> SheetTable {
        let spec = KindSpec.spec(for: kind)
        var known = Importer.ignoredHeaders.union(Importer.parentHeaders)
        for field in spec.fields { known.formUnion(field.headerKeys) }

        var headerRow: Int?
        var headers: [(column: Int, written: String, key: String)] = []
        var positionOfColumn: [Int: Int] = [:]
        var markPositions: [Int] = []
        var records: [TabularFile.Record] = []
        var problems: [WorkbookProblem] = []
        var scanned = 0
        let markKey = ["stt", "#"]
        var lastReport = Date.distantPast
        var expectedRows: Int?
        try reader.readRows(of: sheet, dimension: { expectedRows = $0 }) { row in
            guard headerRow != nil else {
                scanned += 1
                // The header is the first row whose cells are mostly the kind's known headers;
                // merged title rows above it hold one text that is not a header.
                let texts = row.cells.sorted { $0.key < $1.key }.map { ($0.key, Self.text($0.value)) }.filter { !$0.1.isEmpty }
                let matching = texts.filter { known.contains(TabularFile.headerKey($0.1)) }.count
                if matching > 0, matching * 2 >= texts.count {
                    headerRow = row.number
                    headers = texts.map { ($0.0, $0.1, TabularFile.headerKey($0.1)) }
                    for (position, header) in headers.enumerated() { positionOfColumn[header.column] = position }
                    markPositions = markKey.compactMap { key in headers.lastIndex { $0.key == key } }
                }
                return
            }
            // One value per header, in the header's order, as a CSV row gives them.
            var values = [String?](repeating: "", count: headers.count)
            var hasValue = false
            for (column, value) in row.cells {
                if case .formulaWithoutValue(let formula) = value {
                    problems.append(WorkbookProblem(sheet: sheet.name, column: column, row: row.number, problem: .init(
                        row: row.number, column: nil, value: "=" + formula, reason: LocalizedText(
                            vi: "công thức chưa có giá trị tính sẵn (tệp do chương trình khác ghi); mở tệp trong Excel hoặc LibreOffice và lưu lại",
                            en: "a formula without a calculated value (written by another program); open the file in Excel or LibreOffice and save it again"))))
                    continue
                }
                let text = Self.text(value)
                guard let position = positionOfColumn[column] else {
                    if !text.isEmpty {
                        problems.append(WorkbookProblem(sheet: sheet.name, column: column, row: row.number, problem: .init(
                            row: row.number, column: nil, value: text, reason: LocalizedText(
                                vi: "ô có giá trị nằm ngoài các cột có tiêu đề; thêm tiêu đề cho cột hoặc xóa giá trị",
                                en: "a value outside the columns with a header; give the column a header or remove the value"))))
                    }
                    continue
                }
                values[position] = text
                if !text.isEmpty { hasValue = true }
            }
            guard hasValue else { return }
            if let mark = markPositions.lazy.compactMap({ values[$0] }).first, templateMarks.contains(NameKey.exact(mark)) { return }
            records.append(TabularFile.Record(row: row.number, values: values))
            if let progress, records.count % 1024 == 0, Date().timeIntervalSince(lastReport) > 0.25 {
                lastReport = Date()
                progress(sheet.name, row.number, expectedRows)
            }
        }
        guard let headerRow else {
            let problem = ImportError.Problem(row: nil, column: nil, value: nil, reason: LocalizedText(
                vi: "không tìm thấy dòng tiêu đề; dòng tiêu đề cần các cột của loại '\(kind.rawValue)': \(spec.fields.map(\.column).joined(separator: ", "))",
                en: "no header row found; it needs the columns of kind '\(kind.rawValue)': \(spec.fields.map(\.column).joined(separator: ", "))"))
            return SheetTable(kind: kind, sheet: sheet.name, file: TabularFile(path: "\(file)!\(sheet.name)", headers: [], records: []),
                              headerRow: 1, columnOfKey: [:], width: 0,
                              problems: [WorkbookProblem(sheet: sheet.name, column: nil, row: scanned == 0 ? nil : 1, problem: problem)])
        }
        var columnOfKey: [String: Int] = [:]
        for header in headers where columnOfKey[header.key] == nil { columnOfKey[header.key] = header.column }
        return SheetTable(kind: kind, sheet: sheet.name,
                          file: TabularFile(path: "\(file)!\(sheet.name)", headers: headers.map { ($0.written, $0.key) }, records: records),
                          headerRow: headerRow, columnOfKey: columnOfKey, width: (headers.map(\.column).max() ?? -1) + 1,
                          problems: problems)
    }

    /// A cell as the text a CSV export of it holds. Date-times are civil time in Vietnam.
    static func text(_ value: CellValue) -> String {
        switch value {
        case .text(let text): return NameKey.nfc(text.trimmingCharacters(in: .whitespaces))
        case .date(_, let second) where second > 0: return value.plainText + "+07:00"
        default: return value.plainText
        }
    }
}

extension Importer {
    /// Imports a workbook: every sheet named after a kind (hidden sheets only when named), or
    /// only `sheet`, or only `kind`'s sheet; in dependency order, in one transaction.
    public func importWorkbook(_ path: String, kind: ImportKind? = nil, sheet sheetName: String? = nil, dryRun: Bool = false,
                               progress: ImportProgress? = nil) async throws -> [ImportReport] {
        let reader: WorkbookReader
        do { reader = try WorkbookReader(path: path) } catch let error as SpreadsheetError {
            throw WorkbookImportError(file: path, problems: [WorkbookProblem(sheet: error.place ?? "", column: nil, row: nil,
                problem: .init(row: nil, column: nil, value: nil, reason: error.reason))])
        }
        let chosen = try Self.chooseSheets(reader, kind: kind, sheet: sheetName, file: path)
        var tables: [SheetTable] = []
        for (kind, sheet) in chosen {
            do {
                tables.append(try SheetTable.read(reader, sheet: sheet, kind: kind, file: path, progress: progress))
            } catch let error as SpreadsheetError {
                throw WorkbookImportError(file: path, problems: [WorkbookProblem(sheet: sheet.name, column: nil, row: nil,
                    problem: .init(row: nil, column: nil, value: nil, reason: "\(error.place.map { $0 + ": " } ?? "")\(error.reason)"))])
            }
        }
        let readProblems = tables.flatMap(\.problems)
        if !readProblems.isEmpty { throw WorkbookImportError(file: path, problems: readProblems) }
        tables.sort { ImportKind.dependencyOrder.firstIndex(of: $0.kind)! < ImportKind.dependencyOrder.firstIndex(of: $1.kind)! }
        let sorted = tables
        return try await importTables(sorted.map { ($0.kind, $0.file) }, dryRun: dryRun) { index, error in
            WorkbookImportError(file: path, problems: error.problems.map(sorted[index].locate))
        } progress: { index in
            let sheet = sorted[index].sheet
            return progress.map { report in { @Sendable _, done, total in report(sheet, done, total) } }
        }
    }

    static func chooseSheets(_ reader: WorkbookReader, kind: ImportKind?, sheet sheetName: String?, file: String) throws -> [(ImportKind, WorkbookReader.Sheet)] {
        func refuse(_ vi: String, _ en: String) -> WorkbookImportError {
            WorkbookImportError(file: file, problems: [WorkbookProblem(sheet: sheetName ?? "", column: nil, row: nil,
                problem: .init(row: nil, column: nil, value: nil, reason: LocalizedText(vi: vi, en: en)))])
        }
        let names = reader.sheets.map(\.name).joined(separator: ", ")
        let accepted = ImportKind.dependencyOrder.map { "\($0.sheetName) (\($0.rawValue))" }.joined(separator: ", ")
        if let sheetName {
            guard let sheet = reader.sheets.first(where: { $0.name == sheetName })
                    ?? reader.sheets.first(where: { NameKey.exact($0.name) == NameKey.exact(sheetName) }) else {
                throw refuse("không có trang tính '\(sheetName)'; các trang: \(names)", "no sheet '\(sheetName)'; the sheets: \(names)")
            }
            guard let kind = kind ?? ImportKind(sheetName: sheet.name) else {
                throw refuse("tên trang tính không cho biết loại dữ liệu; ghi loại, ví dụ: ntmwatch import surveys \(file) --sheet '\(sheetName)'",
                             "the sheet's name names no kind; give the kind, e.g. ntmwatch import surveys \(file) --sheet '\(sheetName)'")
            }
            return [(kind, sheet)]
        }
        let visible = reader.sheets.filter { !$0.hidden }
        if let kind {
            if let sheet = visible.first(where: { ImportKind(sheetName: $0.name) == kind }) { return [(kind, sheet)] }
            if visible.count == 1 { return [(kind, visible[0])] }
            throw refuse("không có trang tính tên '\(kind.sheetName)'; chọn trang bằng --sheet (các trang: \(names))",
                         "no sheet named '\(kind.sheetName)'; choose one with --sheet (the sheets: \(names))")
        }
        var chosen: [(ImportKind, WorkbookReader.Sheet)] = []
        var problems: [WorkbookProblem] = []
        for sheet in visible {
            guard let kind = ImportKind(sheetName: sheet.name) else {
                problems.append(WorkbookProblem(sheet: sheet.name, column: nil, row: nil, problem: .init(row: nil, column: nil, value: nil, reason: LocalizedText(
                    vi: "tên trang tính không phải loại dữ liệu nào; đổi tên, ẩn trang, hoặc chọn trang bằng --sheet. Tên nhận được: \(accepted)",
                    en: "the sheet's name is not a kind; rename or hide it, or choose sheets with --sheet. Accepted names: \(accepted)"))))
                continue
            }
            if let other = chosen.first(where: { $0.0 == kind }) {
                problems.append(WorkbookProblem(sheet: sheet.name, column: nil, row: nil, problem: .init(row: nil, column: nil, value: nil, reason: LocalizedText(
                    vi: "trang '\(other.1.name)' cũng là loại '\(kind.rawValue)'; gộp hai trang", en: "sheet '\(other.1.name)' is also kind '\(kind.rawValue)'; merge the two"))))
                continue
            }
            chosen.append((kind, sheet))
        }
        if !problems.isEmpty { throw WorkbookImportError(file: file, problems: problems) }
        return chosen
    }
}
