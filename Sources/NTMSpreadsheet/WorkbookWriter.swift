import CheckKit
import Foundation
import ZIPFoundation

/// Writes `.xlsx` workbooks: the OOXML parts written directly, strings inline, one fixed set of
/// styles (header, dd/mm/yyyy dates, amounts with thousands separators, highlighted, notes).
public enum WorkbookWriter {
    /// Indexes into the `cellXfs` this writer emits, in that order.
    public enum Style: Int, Sendable {
        case normal = 0, header, date, amount, highlight, note, wrapped
    }

    public enum Cell: Sendable, Hashable {
        case empty
        case text(String, Style = .normal)
        case number(Double, Style = .normal)
        /// A civil date, stored as an Excel serial number shown dd/mm/yyyy.
        case date(CivilDate)

        /// Characters the column would show, for its width.
        var shownWidth: Int {
            switch self {
            case .empty: return 0
            case .text(let text, _): return text.split(separator: "\n").map(\.count).max() ?? 0
            case .number(let number, let style):
                let digits = CellValue.plain(number).count
                return style == .amount ? digits + digits / 3 : digits
            case .date: return 10
            }
        }
    }

    /// A list of allowed values for a column, from `firstRow` to `lastRow` (1-based).
    public struct Validation: Sendable {
        public let column: Int
        public let firstRow: Int
        public let lastRow: Int
        public let choices: [String]
        /// A strict list refuses other values; a loose one only offers its choices.
        public let strict: Bool
        public init(column: Int, firstRow: Int, lastRow: Int, choices: [String], strict: Bool = true) {
            self.column = column; self.firstRow = firstRow; self.lastRow = lastRow; self.choices = choices
            self.strict = strict
        }
    }

    public struct Sheet: Sendable {
        public var name: String
        public var rows: [[Cell]]
        /// Rows kept in view while scrolling (the header).
        public var frozenRows: Int
        /// The 1-based row of the header an autofilter is put on, or nil for none.
        public var filterRow: Int?
        public var validations: [Validation]

        public init(name: String, rows: [[Cell]], frozenRows: Int = 1, filterRow: Int? = 1, validations: [Validation] = []) {
            self.name = name; self.rows = rows; self.frozenRows = frozenRows; self.filterRow = filterRow
            self.validations = validations
        }
    }

    public static func write(_ sheets: [Sheet], to path: String) throws {
        try writeArchive(to: path) { archive in
            try add(archive, "[Content_Types].xml", contentTypes(sheetCount: sheets.count))
            try add(archive, "_rels/.rels", Self.packageRelationships)
            try add(archive, "xl/workbook.xml", workbook(sheets))
            try add(archive, "xl/_rels/workbook.xml.rels", workbookRelationships(sheetCount: sheets.count))
            try add(archive, "xl/styles.xml", Self.styles)
            for (index, sheet) in sheets.enumerated() {
                try add(archive, "xl/worksheets/sheet\(index + 1).xml", worksheet(sheet, selected: index == 0))
            }
        }
    }

    /// Fills a new zip beside `path` and renames it over `path`, so that a failure never leaves
    /// half a workbook where the user expects one.
    static func writeArchive(to path: String, _ fill: (Archive) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try fill(try Archive(url: temporary, accessMode: .create))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch let error as SpreadsheetError {
            throw error
        } catch {
            throw SpreadsheetError(file: path, reason: "cannot write the workbook: \(error)")
        }
    }

    static func add(_ archive: Archive, _ part: String, _ text: String) throws {
        try add(archive, part, Data(text.utf8))
    }

    static func add(_ archive: Archive, _ part: String, _ data: Data) throws {
        try archive.addEntry(with: part, type: .file, uncompressedSize: Int64(data.count),
                             modificationDate: Date(timeIntervalSince1970: 315_532_800),
                             compressionMethod: .deflate) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
    }

    // MARK: Parts

    static let mainNamespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    static let relationshipNamespace = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    static func contentTypes(sheetCount: Int) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
            """
        for index in stride(from: 1, through: sheetCount, by: 1) {
            xml += "<Override PartName=\"/xl/worksheets/sheet\(index).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }
        return xml + "</Types>"
    }

    static let packageRelationships = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
        </Relationships>
        """

    static func workbook(_ sheets: [Sheet]) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="\(mainNamespace)" xmlns:r="\(relationshipNamespace)"><workbookPr/><bookViews><workbookView activeTab="0"/></bookViews><sheets>
            """
        for (index, sheet) in sheets.enumerated() {
            xml += "<sheet name=\"\(escape(sheet.name))\" sheetId=\"\(index + 1)\" r:id=\"rId\(index + 1)\"/>"
        }
        xml += "</sheets>"
        // Excel keeps an autofilter's range in this hidden name; without it some versions drop the filter.
        let filtered = sheets.enumerated().compactMap { index, sheet in filterRange(sheet).map { (index, sheet.name, $0) } }
        if !filtered.isEmpty {
            xml += "<definedNames>"
            for (index, name, range) in filtered {
                let absolute = range.split(separator: ":").map { reference -> String in
                    let parsed = CellReference.parse(String(reference))!
                    return "$\(CellReference.column(parsed.column))$\(parsed.row!)"
                }.joined(separator: ":")
                xml += "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"\(index)\" hidden=\"1\">'\(escape(name.replacingOccurrences(of: "'", with: "''")))'!\(absolute)</definedName>"
            }
            xml += "</definedNames>"
        }
        return xml + "</workbook>"
    }

    static func workbookRelationships(sheetCount: Int) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
            """
        for index in 0..<sheetCount {
            xml += "<Relationship Id=\"rId\(index + 1)\" Type=\"\(relationshipNamespace)/worksheet\" Target=\"worksheets/sheet\(index + 1).xml\"/>"
        }
        xml += "<Relationship Id=\"rId\(sheetCount + 1)\" Type=\"\(relationshipNamespace)/styles\" Target=\"styles.xml\"/>"
        return xml + "</Relationships>"
    }

    /// The fill added to highlight a cell (light red, as Excel's "bad" style).
    static let highlightFill = "<fill><patternFill patternType=\"solid\"><fgColor rgb=\"FFFFC7CE\"/><bgColor indexed=\"64\"/></patternFill></fill>"

    /// cellXfs in the order of ``Style``. Format 164 is dd/mm/yyyy; 3 is Excel's built-in `#,##0`.
    static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="\(mainNamespace)">\
        <numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>\
        <fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
        <font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
        <font><i/><sz val="10"/><color rgb="FF595959"/><name val="Calibri"/><family val="2"/></font></fonts>\
        <fills count="4"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
        <fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>\
        \(highlightFill)</fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="7">\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>\
        <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="0" fontId="0" fillId="3" borderId="0" xfId="0" applyFill="1"/>\
        <xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>\
        </cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    static func filterRange(_ sheet: Sheet) -> String? {
        guard let row = sheet.filterRow, row <= sheet.rows.count else { return nil }
        let width = max(sheet.rows[row - 1].count, 1)
        return "A\(row):\(CellReference.cell(column: width - 1, row: max(sheet.rows.count, row)))"
    }

    static func worksheet(_ sheet: Sheet, selected: Bool) -> String {
        let width = sheet.rows.map(\.count).max() ?? 0
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="\(mainNamespace)" xmlns:r="\(relationshipNamespace)">
            """
        if width > 0, !sheet.rows.isEmpty {
            xml += "<dimension ref=\"A1:\(CellReference.cell(column: width - 1, row: sheet.rows.count))\"/>"
        }
        xml += "<sheetViews><sheetView workbookViewId=\"0\"\(selected ? " tabSelected=\"1\"" : "")>"
        if sheet.frozenRows > 0 {
            let topLeft = "A\(sheet.frozenRows + 1)"
            xml += "<pane ySplit=\"\(sheet.frozenRows)\" topLeftCell=\"\(topLeft)\" activePane=\"bottomLeft\" state=\"frozen\"/>"
            xml += "<selection pane=\"bottomLeft\" activeCell=\"\(topLeft)\" sqref=\"\(topLeft)\"/>"
        }
        xml += "</sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/>"
        if width > 0 {
            xml += "<cols>"
            for column in 0..<width {
                let widest = sheet.rows.lazy.map { column < $0.count ? $0[column].shownWidth : 0 }.max() ?? 0
                let characters = min(max(Double(widest) * 1.1 + 2, 8), 60)
                xml += "<col min=\"\(column + 1)\" max=\"\(column + 1)\" width=\"\(String(format: "%.1f", characters))\" customWidth=\"1\"/>"
            }
            xml += "</cols>"
        }
        xml += "<sheetData>"
        for (index, row) in sheet.rows.enumerated() {
            let number = index + 1
            xml += "<row r=\"\(number)\">"
            for (column, cell) in row.enumerated() {
                let reference = CellReference.cell(column: column, row: number)
                switch cell {
                case .empty: continue
                case .text(let text, let style):
                    xml += "<c r=\"\(reference)\"\(styleAttribute(style)) t=\"inlineStr\"><is><t xml:space=\"preserve\">\(escape(text))</t></is></c>"
                case .number(let value, let style):
                    xml += "<c r=\"\(reference)\"\(styleAttribute(style))><v>\(CellValue.plain(value))</v></c>"
                case .date(let date):
                    xml += "<c r=\"\(reference)\"\(styleAttribute(.date))><v>\(CellValue.plain(DateSystem.serial(date)))</v></c>"
                }
            }
            xml += "</row>"
        }
        xml += "</sheetData>"
        if let range = filterRange(sheet) { xml += "<autoFilter ref=\"\(range)\"/>" }
        let validations = sheet.validations.filter { !$0.choices.isEmpty }
        if !validations.isEmpty {
            xml += "<dataValidations count=\"\(validations.count)\">"
            for validation in validations {
                let column = CellReference.column(validation.column)
                // A list written inline is limited to 255 characters by Excel; ours are short.
                let list = escape("\"" + validation.choices.joined(separator: ",") + "\"")
                xml += "<dataValidation type=\"list\" allowBlank=\"1\" showErrorMessage=\"\(validation.strict ? 1 : 0)\" sqref=\"\(column)\(validation.firstRow):\(column)\(validation.lastRow)\"><formula1>\(list)</formula1></dataValidation>"
            }
            xml += "</dataValidations>"
        }
        return xml + "<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>"
    }

    static func styleAttribute(_ style: Style) -> String { style == .normal ? "" : " s=\"\(style.rawValue)\"" }

    /// XML text: the five entities, and control characters as OOXML's `_xHHHH_` (XML 1.0 cannot hold them).
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                escaped += String(format: "_x%04X_", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
