import CheckKit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Element names without their prefix: some writers use `x:c` where Excel writes `c`.
func localName(_ qualified: String) -> Substring {
    guard let colon = qualified.lastIndex(of: ":") else { return Substring(qualified) }
    return qualified[qualified.index(after: colon)...]
}

/// Text as OOXML stores it, with the characters XML 1.0 cannot hold written `_xHHHH_`.
func decodedText(_ text: String) -> String {
    guard text.contains("_x") else { return text }
    var result = ""
    var rest = Substring(text)
    while let start = rest.range(of: "_x") {
        let code = rest[start.upperBound...].prefix(5)
        if code.count == 5, code.last == "_", let value = UInt32(code.prefix(4), radix: 16), let scalar = Unicode.Scalar(value) {
            result += rest[..<start.lowerBound]
            result.unicodeScalars.append(scalar)
            rest = rest[rest.index(start.upperBound, offsetBy: 5)...]
        } else {
            result += rest[..<start.upperBound]
            rest = rest[start.upperBound...]
        }
    }
    return result + rest
}

/// Runs an `XMLParser` over a whole small part (workbook, relationships, shared strings, styles).
/// Subclasses override `start`, `end` and `characters`: the delegate methods themselves must live
/// here, since outside Objective-C a subclass's own implementations would never be called.
class PartParser: NSObject, XMLParserDelegate {
    let file: String
    let part: String

    init(file: String, part: String) {
        self.file = file; self.part = part
    }

    func start(_ name: Substring, _ attributes: [String: String]) {}
    func end(_ name: Substring) {}
    func characters(_ text: String) {}

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        start(localName(elementName), attributes)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        end(localName(elementName))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { characters(string) }

    func run(_ data: Data) throws {
        let parser = XMLParser(data: data)
        parser.delegate = self
        guard parser.parse() else {
            throw SpreadsheetError(file: file, place: part,
                                   reason: "damaged XML near line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "unknown error")")
        }
    }
}

final class WorkbookPart: PartParser {
    struct SheetEntry { let name: String; let relationID: String; let hidden: Bool }
    private(set) var sheets: [SheetEntry] = []
    private(set) var uses1904 = false

    init(parsing data: Data, file: String, part: String) throws {
        super.init(file: file, part: part)
        try run(data)
    }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "sheet":
            let relation = attributes.first { localName($0.key) == "id" && $0.key.contains(":") }?.value ?? ""
            let state = attributes["state"] ?? "visible"
            sheets.append(.init(name: attributes["name"] ?? "", relationID: relation, hidden: state != "visible"))
        case "workbookPr":
            uses1904 = ["1", "true"].contains(attributes["date1904"] ?? "")
        default: break
        }
    }
}

struct RelationshipsPart {
    /// Relationship id → part path in the zip.
    var byID: [String: String] = [:]
    /// Last path component of the relationship type (`styles`, `sharedStrings`, ...) → part path.
    var byType: [String: String] = [:]

    init() {}

    init(parsing data: Data, base: String) throws {
        let parser = Parser(file: "", part: "rels")
        try parser.run(data)
        for (id, type, target, external) in parser.relations where !external {
            let path = Self.resolve(target, base: base)
            byID[id] = path
            byType[String(type.split(separator: "/").last ?? "")] = path
        }
    }

    /// `worksheets/sheet1.xml` relative to `xl`, or an absolute `/xl/worksheets/sheet1.xml`.
    static func resolve(_ target: String, base: String) -> String {
        if target.hasPrefix("/") { return String(target.dropFirst()) }
        var components = base.isEmpty ? [] : base.split(separator: "/").map(String.init)
        for component in target.split(separator: "/") {
            if component == ".." { _ = components.popLast() } else if component != "." { components.append(String(component)) }
        }
        return components.joined(separator: "/")
    }

    private final class Parser: PartParser {
        var relations: [(String, String, String, Bool)] = []

        override func start(_ name: Substring, _ attributes: [String: String]) {
            guard name == "Relationship" else { return }
            relations.append((attributes["Id"] ?? "", attributes["Type"] ?? "", attributes["Target"] ?? "",
                              attributes["TargetMode"] == "External"))
        }
    }
}

/// `sharedStrings.xml`: each `<si>`'s text, rich-text runs joined, phonetic runs left out.
final class SharedStringsPart: PartParser {
    private(set) var strings: [String] = []
    private var current = ""
    private var inText = false
    private var phoneticDepth = 0

    init(parsing data: Data, file: String) throws {
        super.init(file: file, part: "sharedStrings")
        try run(data)
    }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "si": current = ""
        case "t": inText = phoneticDepth == 0
        case "rPh": phoneticDepth += 1
        default: break
        }
    }

    override func end(_ name: Substring) {
        switch name {
        case "si": strings.append(decodedText(current))
        case "t": inText = false
        case "rPh": phoneticDepth -= 1
        default: break
        }
    }

    override func characters(_ text: String) {
        if inText { current += text }
    }
}

/// `styles.xml`, read for one thing: which cell formats (`cellXfs` indexes) show dates.
final class StylesPart: PartParser {
    private var customFormats: [Int: String] = [:]
    private var formatIDs: [Int] = []
    private var inCellXfs = false

    var dateStyles: [Bool] { formatIDs.map { NumberFormat.isDate(id: $0, code: customFormats[$0]) } }

    init(parsing data: Data, file: String) throws {
        super.init(file: file, part: "styles")
        try run(data)
    }

    override func start(_ name: Substring, _ attributes: [String: String]) {
        switch name {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap(Int.init) { customFormats[id] = attributes["formatCode"] ?? "" }
        case "cellXfs": inCellXfs = true
        case "xf" where inCellXfs: formatIDs.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
        default: break
        }
    }

    override func end(_ name: Substring) {
        if name == "cellXfs" { inCellXfs = false }
    }
}

/// Streams `<sheetData>`: collects one row's cells and hands the row on at `</row>`.
final class SheetParser: NSObject, XMLParserDelegate {
    private let reader: WorkbookReader
    private let sheet: WorkbookReader.Sheet
    private let body: (SheetRow) throws -> Void
    private(set) var failure: Error?
    var dimension: ((Int) -> Void)?

    private var rowNumber = 0
    private var cells: [Int: CellValue] = [:]
    private var column = -1
    private var cellType = "n"
    private var cellStyle = 0
    private var cellReference = ""
    private var value = ""
    private var formula: String?
    private var sawValue = false
    private var inlineText = ""
    private var collecting: Collecting = .nothing
    private var phoneticDepth = 0

    private enum Collecting { case nothing, value, formula, inline }

    init(reader: WorkbookReader, sheet: WorkbookReader.Sheet, body: @escaping (SheetRow) throws -> Void) {
        self.reader = reader; self.sheet = sheet; self.body = body
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes: [String: String] = [:]) {
        switch localName(elementName) {
        case "dimension":
            let last = attributes["ref"]?.split(separator: ":").last.flatMap { CellReference.parse(String($0))?.row }
            if let last { dimension?(last) }
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            cells = [:]
            column = -1
        case "c":
            cellReference = attributes["r"] ?? ""
            if let parsed = CellReference.parse(cellReference) { column = parsed.column } else { column += 1 }
            cellType = attributes["t"] ?? "n"
            cellStyle = attributes["s"].flatMap(Int.init) ?? 0
            value = ""; formula = nil; inlineText = ""; sawValue = false
        case "v": collecting = .value; sawValue = true
        case "f": collecting = .formula; formula = formula ?? ""
        case "t" where phoneticDepth == 0 && cellType == "inlineStr": collecting = .inline
        case "rPh": phoneticDepth += 1
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        switch collecting {
        case .value: value += string
        case .formula: formula! += string
        case .inline: inlineText += string
        case .nothing: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        switch localName(elementName) {
        case "v", "f", "t": collecting = .nothing
        case "rPh": phoneticDepth -= 1
        case "c":
            do {
                if let cell = try finishCell() { cells[column] = cell }
            } catch {
                failure = error
                parser.abortParsing()
            }
        case "row":
            guard !cells.isEmpty else { return }
            do {
                try body(SheetRow(number: rowNumber, cells: cells))
            } catch {
                failure = error
                parser.abortParsing()
            }
        default: break
        }
    }

    private func finishCell() throws -> CellValue? {
        let place = "\(sheet.name)!\(cellReference.isEmpty ? CellReference.cell(column: column, row: rowNumber) : cellReference)"
        // openpyxl writes `<f>` with no `<v>` (or an empty one for a non-text result): nothing
        // was ever calculated, and reading it as empty would lose the value silently.
        if let formula, value.isEmpty, !(sawValue && cellType == "str") { return .formulaWithoutValue(formula) }
        switch cellType {
        case "s":
            guard let index = Int(value), index >= 0, index < reader.sharedStrings.count else {
                throw SpreadsheetError(file: reader.path, place: place, reason: "refers to shared string \(value), which the workbook lacks")
            }
            return reader.sharedStrings[index].isEmpty ? nil : .text(reader.sharedStrings[index])
        case "inlineStr": return inlineText.isEmpty ? nil : .text(decodedText(inlineText))
        case "str": return .text(decodedText(value))
        case "b": return .bool(value == "1" || value == "true")
        case "e": return .error(value)
        case "d":
            // An ISO 8601 date written as such (Strict OOXML and some writers).
            guard let date = CivilDate(String(value.prefix(10))) else { return .text(value) }
            return .date(date, secondOfDay: 0)
        default:
            guard !value.isEmpty else { return nil }
            guard let number = Double(value) else {
                throw SpreadsheetError(file: reader.path, place: place, reason: "'\(value.prefix(40))' is marked as a number but is not one")
            }
            return reader.number(number, style: cellStyle)
        }
    }
}
