import CheckKit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// A cell's value as the workbook stores it, after shared strings and number formats are applied.
public enum CellValue: Sendable, Hashable {
    case text(String)
    case number(Double)
    case bool(Bool)
    /// A number whose cell format is a date format, converted with the workbook's date system.
    case date(CivilDate, secondOfDay: Int)
    /// `#N/A`, `#DIV/0!` and the like.
    case error(String)
    /// A formula the workbook never calculated (openpyxl writes formulas without a cached value).
    case formulaWithoutValue(String)

    /// The text a CSV export would hold: whole numbers without ".0", dates as ISO 8601.
    public var plainText: String {
        switch self {
        case .text(let text): return text
        case .number(let number): return CellValue.plain(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .date(let date, let second):
            guard second > 0 else { return date.description }
            return date.description + String(format: "T%02d:%02d:%02d", second / 3600, second / 60 % 60, second % 60)
        case .error(let code): return code
        case .formulaWithoutValue(let formula): return "=" + formula
        }
    }

    static func plain(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }
}

/// One row of a sheet: 1-based row number and the non-empty cells by 0-based column.
public struct SheetRow: Sendable {
    public let number: Int
    public let cells: [Int: CellValue]
}

/// Why a workbook could not be read; names the part and, where there is one, the cell.
public struct SpreadsheetError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let place: String?
    public let reason: String

    public init(file: String, place: String? = nil, reason: String) {
        self.file = file; self.place = place; self.reason = reason
    }

    public var description: String { [file, place].compactMap { $0 }.joined(separator: ": ") + ": " + reason }
}

/// Column letters and cell references (`E17`).
public enum CellReference {
    public static func column(_ index: Int) -> String {
        var index = index + 1
        var letters = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            letters = String(UnicodeScalar(UInt8(65 + remainder))) + letters
            index = (index - 1) / 26
        }
        return letters
    }

    public static func cell(column: Int, row: Int) -> String { "\(Self.column(column))\(row)" }

    /// "E17" → (4, 17); a reference without a row ("E") gives row nil.
    public static func parse(_ reference: String) -> (column: Int, row: Int?)? {
        var column = 0
        var digits = Substring()
        for (offset, character) in reference.enumerated() {
            guard let ascii = character.asciiValue else { return nil }
            if ascii >= 65 && ascii <= 90 { column = column * 26 + Int(ascii - 64) }
            else if ascii >= 97 && ascii <= 122 { column = column * 26 + Int(ascii - 96) }
            else { digits = reference.dropFirst(offset); break }
        }
        guard column > 0 else { return nil }
        if digits.isEmpty { return (column - 1, nil) }
        guard let row = Int(digits) else { return nil }
        return (column - 1, row)
    }
}

/// An `.xlsx` workbook opened for reading. Sheets are streamed row by row; only the shared
/// strings and the styles are held in memory.
public final class WorkbookReader {
    public struct Sheet: Sendable, Hashable {
        public let name: String
        /// The part in the zip, e.g. `xl/worksheets/sheet1.xml`.
        public let part: String
        public let hidden: Bool
    }

    public let path: String
    public let sheets: [Sheet]
    let archive: Archive
    let sharedStrings: [String]
    let dateStyles: [Bool]
    let uses1904: Bool

    public init(path: String) throws {
        self.path = path
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw SpreadsheetError(file: path, reason: "not an .xlsx workbook (cannot open it as a zip archive); in Excel save it as \"Excel Workbook (.xlsx)\"")
        }
        self.archive = archive
        let workbookPart = try Self.officeDocument(archive, file: path)
        let workbookXML = try Self.data(archive, workbookPart, file: path)
        let workbook = try WorkbookPart(parsing: workbookXML, file: path, part: workbookPart)
        let relations = try Self.relationships(archive, of: workbookPart, file: path)
        sheets = try workbook.sheets.map { sheet in
            guard let target = relations[sheet.relationID] else {
                throw SpreadsheetError(file: path, place: workbookPart, reason: "sheet '\(sheet.name)' has no part")
            }
            return Sheet(name: sheet.name, part: target, hidden: sheet.hidden)
        }
        uses1904 = workbook.uses1904
        let type = Self.relationTypes(archive, of: workbookPart)
        if let part = type["sharedStrings"], let xml = try? Self.data(archive, part, file: path) {
            sharedStrings = try SharedStringsPart(parsing: xml, file: path).strings
        } else {
            sharedStrings = []
        }
        if let part = type["styles"], let xml = try? Self.data(archive, part, file: path) {
            dateStyles = try StylesPart(parsing: xml, file: path).dateStyles
        } else {
            dateStyles = []
        }
    }

    /// Hands each row that has a cell to `body`, in order, without holding the sheet in memory:
    /// the part is inflated to a private temporary file and parsed as a stream.
    /// `dimension` learns the sheet's last row from its `<dimension>`, when it has one, before the rows.
    public func readRows(of sheet: Sheet, dimension: ((Int) -> Void)? = nil, _ body: (SheetRow) throws -> Void) throws {
        guard let entry = archive[sheet.part] else {
            throw SpreadsheetError(file: path, place: sheet.name, reason: "the workbook lacks the sheet's part \(sheet.part)")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ntmwatch-xlsx-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("sheet.xml")
        do {
            _ = try archive.extract(entry, to: file)
        } catch {
            throw SpreadsheetError(file: path, place: sheet.name, reason: "cannot unpack the sheet: \(error)")
        }
        guard let stream = InputStream(url: file) else {
            throw SpreadsheetError(file: path, place: sheet.name, reason: "cannot read the unpacked sheet")
        }
        let parser = XMLParser(stream: stream)
        try withoutActuallyEscaping(body) { body in
            let delegate = SheetParser(reader: self, sheet: sheet, body: body)
            delegate.dimension = dimension
            parser.delegate = delegate
            let parsed = parser.parse()
            if let error = delegate.failure { throw error }
            if !parsed {
                throw SpreadsheetError(file: path, place: sheet.name,
                                       reason: "the sheet's XML is damaged near line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "unknown error")")
            }
        }
    }

    /// The value of a number in a cell of style `style`: a date when the style's format is one.
    func number(_ value: Double, style: Int) -> CellValue {
        guard style < dateStyles.count, dateStyles[style] else { return .number(value) }
        return DateSystem.date(serial: value, uses1904: uses1904).map { .date($0.date, secondOfDay: $0.second) } ?? .number(value)
    }

    // MARK: Package parts

    static func data(_ archive: Archive, _ part: String, file: String) throws -> Data {
        guard let entry = archive[part] else { throw SpreadsheetError(file: file, place: part, reason: "part missing") }
        var data = Data()
        do {
            _ = try archive.extract(entry) { data.append($0) }
        } catch {
            throw SpreadsheetError(file: file, place: part, reason: "cannot unpack: \(error)")
        }
        return data
    }

    static func officeDocument(_ archive: Archive, file: String) throws -> String {
        let rels = (try? RelationshipsPart(parsing: data(archive, "_rels/.rels", file: file), base: "")) ?? .init()
        if let part = rels.byType["officeDocument"] { return part }
        if archive["xl/workbook.xml"] != nil { return "xl/workbook.xml" }
        throw SpreadsheetError(file: file, reason: "no workbook part: this is a zip file but not an .xlsx workbook")
    }

    static func relationshipsPart(of part: String) -> String {
        let folder = (part as NSString).deletingLastPathComponent
        let name = (part as NSString).lastPathComponent
        return (folder.isEmpty ? "" : folder + "/") + "_rels/\(name).rels"
    }

    static func relationships(_ archive: Archive, of part: String, file: String) throws -> [String: String] {
        guard archive[relationshipsPart(of: part)] != nil else { return [:] }
        let xml = try data(archive, relationshipsPart(of: part), file: file)
        return try RelationshipsPart(parsing: xml, base: (part as NSString).deletingLastPathComponent).byID
    }

    static func relationTypes(_ archive: Archive, of part: String) -> [String: String] {
        guard let xml = try? data(archive, relationshipsPart(of: part), file: "") else { return [:] }
        return (try? RelationshipsPart(parsing: xml, base: (part as NSString).deletingLastPathComponent).byType) ?? [:]
    }
}

/// Excel's serial dates. The 1900 system counts 1900-02-29, a day that never was (Lotus 1-2-3's
/// bug, kept for compatibility): serials from 61 on are one day ahead of a plain count, and 60
/// names no date. The 1904 system counts from 1904-01-01.
public enum DateSystem {
    static let epoch1900 = CivilDate(year: 1899, month: 12, day: 31)!.dayNumber
    static let epoch1904 = CivilDate(year: 1904, month: 1, day: 1)!.dayNumber

    public static func date(serial: Double, uses1904: Bool) -> (date: CivilDate, second: Int)? {
        guard serial >= 0, serial < 2_958_466 else { return nil }
        var days = Int(serial.rounded(.down))
        let second = Int(((serial - Double(days)) * 86_400).rounded())
        if second >= 86_400 { days += 1 }
        if uses1904 { return (CivilDate(dayNumber: epoch1904 + days), second % 86_400) }
        if days == 60 { return nil }
        return (CivilDate(dayNumber: epoch1900 + days - (days > 60 ? 1 : 0)), second % 86_400)
    }

    public static func serial(_ date: CivilDate) -> Double {
        let days = date.dayNumber - epoch1900
        return Double(days + (days >= 60 ? 1 : 0))
    }
}

/// Whether a number format shows a date: Excel's built-in date formats, or a custom code with
/// day, month, year or hour placeholders outside quoted text, escapes and `[...]` sections.
public enum NumberFormat {
    static let builtInDates: Set<Int> = Set(14...22).union(45...47)

    public static func isDate(id: Int, code: String?) -> Bool {
        if builtInDates.contains(id) { return true }
        guard let code else { return false }
        var inQuotes = false, inBracket = false, escaped = false
        for character in code.lowercased() {
            if escaped { escaped = false; continue }
            switch character {
            case "\"": inQuotes.toggle()
            case "\\", "_", "*": if !inQuotes { escaped = true }
            case "[": if !inQuotes { inBracket = true }
            case "]": if !inQuotes { inBracket = false }
            case ";": if !inQuotes { return false }  // only the first section decides
            case "d", "m", "y", "h": if !inQuotes && !inBracket { return true }
            default: break
            }
        }
        return false
    }
}
