import Foundation
import ZIPFoundation

/// A note to put on one cell of a user's workbook: why its value was refused.
public struct CellNote: Sendable, Hashable {
    public let sheet: String
    public let column: Int
    public let row: Int
    public let text: String

    public init(sheet: String, column: Int, row: Int, text: String) {
        self.sheet = sheet; self.column = column; self.row = row; self.text = text
    }

    public var reference: String { CellReference.cell(column: column, row: row) }
}

/// Writes a copy of the user's own workbook with the noted cells highlighted and a comment on
/// each. Every part is copied byte for byte except the styles (one fill and one cell format per
/// format the noted cells had), the noted sheets (those cells' style index, a `legacyDrawing`),
/// their relationships, `[Content_Types].xml`, and the comments and VML drawing parts: a sheet's
/// own get ours added (a cell the user already commented keeps that text, ours after it), a sheet
/// without gets new ones.
public enum ErrorWorkbook {
    public static func write(source: String, notes: [CellNote], to path: String) throws {
        let reader = try WorkbookReader(path: source)
        let archive = reader.archive
        var replaced: [String: Data] = [:]
        var added: [(String, Data)] = []
        func read(_ part: String) throws -> Data {
            if let data = replaced[part] { return data }
            return try WorkbookReader.data(archive, part, file: source)
        }

        let workbookPart = try WorkbookReader.officeDocument(archive, file: source)
        guard let stylesPart = WorkbookReader.relationTypes(archive, of: workbookPart)["styles"] else {
            throw SpreadsheetError(file: source, reason: "the workbook has no styles part; save it again in Excel or LibreOffice")
        }
        var styles = StylesPatch(xml: [UInt8](try read(stylesPart)))
        var contentTypes = String(decoding: try read("[Content_Types].xml"), as: UTF8.self)
        var used = Set(archive.map(\.path))

        let bySheet = Dictionary(grouping: notes, by: \.sheet)
        for sheet in reader.sheets where bySheet[sheet.name] != nil {
            let sheetNotes = bySheet[sheet.name]!
            var xml = try SheetPatch.highlight(try [UInt8](read(sheet.part)),
                                               cells: Set(sheetNotes.map { SheetPatch.Target(row: $0.row, column: $0.column) })) {
                styles.highlighted($0)
            }
            // A sheet that already has comments keeps them: ours go into its comments part and its
            // legacy drawing (one note shape per newly commented cell), or into new parts.
            let relsPart = WorkbookReader.relationshipsPart(of: sheet.part)
            let relsData = used.contains(relsPart) ? try read(relsPart) : nil
            let relations = try relsData.map {
                try RelationshipsPart(parsing: $0, base: (sheet.part as NSString).deletingLastPathComponent)
            } ?? RelationshipsPart()
            var newRelations: [(type: String, target: String)] = []
            func unused(_ name: (Int) -> String) -> String {
                var number = 1
                while used.contains(name(number)) { number += 1 }
                used.insert(name(number))
                return name(number)
            }
            let newCells: [CellNote]
            if let existing = relations.byType["comments"] {
                let merge = CommentsMerge(xml: try read(existing))
                replaced[existing] = Data(merge.adding(sheetNotes))
                newCells = sheetNotes.filter { !merge.commented.contains($0.reference) }
            } else {
                let comments = unused { "xl/comments\($0).xml" }
                added.append((comments, Data(commentsXML(sheetNotes).utf8)))
                newRelations.append(("comments", comments))
                contentTypes = contentTypes.replacingOccurrences(of: "</Types>", with:
                    "<Override PartName=\"/\(comments)\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml\"/></Types>")
                newCells = sheetNotes
            }
            if let drawingID = SheetPatch.legacyDrawingID(xml), let drawing = relations.byID[drawingID] {
                replaced[drawing] = Data(Self.appendingShapes(for: newCells, to: try read(drawing)))
            } else {
                let drawing = unused { "xl/drawings/vmlDrawing\($0).vml" }
                let block = Int(drawing.filter(\.isNumber)) ?? 1
                added.append((drawing, Data(vmlXML(newCells, shapeBlock: block).utf8)))
                newRelations.append(("vmlDrawing", drawing))
            }
            if !newRelations.isEmpty {
                var rels = relsData.map { String(decoding: $0, as: UTF8.self) }
                    ?? "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"></Relationships>"
                for relation in newRelations {
                    var id = "rIdNtmwatch", suffix = 1
                    while relations.byID[id] != nil || rels.contains("Id=\"\(id)\"") { suffix += 1; id = "rIdNtmwatch\(suffix)" }
                    rels = rels.replacingOccurrences(of: "</Relationships>", with:
                        "<Relationship Id=\"\(id)\" Type=\"\(WorkbookWriter.relationshipNamespace)/\(relation.type)\" Target=\"/\(relation.target)\"/></Relationships>")
                    if relation.type == "vmlDrawing" { xml = SheetPatch.addLegacyDrawing(xml, relationshipID: id) }
                }
                if relsData == nil { added.append((relsPart, Data(rels.utf8))); used.insert(relsPart) } else { replaced[relsPart] = Data(rels.utf8) }
            }
            replaced[sheet.part] = Data(xml)
        }
        if !contentTypes.contains("Extension=\"vml\""), added.contains(where: { $0.0.hasSuffix(".vml") }) {
            contentTypes = contentTypes.replacingOccurrences(of: "</Types>", with:
                "<Default Extension=\"vml\" ContentType=\"application/vnd.openxmlformats-officedocument.vmlDrawing\"/></Types>")
        }
        replaced["[Content_Types].xml"] = Data(contentTypes.utf8)
        replaced[stylesPart] = Data(styles.finish())

        try WorkbookWriter.writeArchive(to: path) { output in
            for entry in archive {
                let data = try replaced[entry.path] ?? WorkbookReader.data(archive, entry.path, file: source)
                try WorkbookWriter.add(output, entry.path, data)
            }
            for (part, data) in added { try WorkbookWriter.add(output, part, data) }
        }
    }

    static func commentsXML(_ notes: [CellNote]) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <comments xmlns="\(WorkbookWriter.mainNamespace)"><authors><author>ntmwatch</author></authors><commentList>
            """
        for (reference, texts) in merged(notes) {
            xml += "<comment ref=\"\(reference)\" authorId=\"0\"><text><r><rPr><b/><sz val=\"9\"/></rPr><t>ntmwatch:</t></r>"
            xml += "<r><rPr><sz val=\"9\"/></rPr><t xml:space=\"preserve\">\n\(WorkbookWriter.escape(texts.joined(separator: "\n")))</t></r></text></comment>"
        }
        return xml + "</commentList></comments>"
    }

    /// Several problems in one cell become one comment.
    static func merged(_ notes: [CellNote]) -> [(String, [String])] {
        var order: [String] = []
        var texts: [String: [String]] = [:]
        for note in notes.sorted(by: { ($0.row, $0.column) < ($1.row, $1.column) }) {
            if texts[note.reference] == nil { order.append(note.reference) }
            if !texts[note.reference, default: []].contains(note.text) { texts[note.reference, default: []].append(note.text) }
        }
        return order.map { ($0, texts[$0]!) }
    }

    static let vmlNamespaces = #"xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel""#
    static let noteShapeType = """
        <v:shapetype \(vmlNamespaces) id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">\
        <v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>
        """

    /// The legacy drawing Excel needs to show comments: one hidden note shape per commented cell.
    static func vmlXML(_ notes: [CellNote], shapeBlock: Int) -> String {
        "<xml \(vmlNamespaces)><o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"\(shapeBlock)\"/></o:shapelayout>"
            + noteShapeType + noteShapes(notes, firstID: shapeBlock * 1024 + 1) + "</xml>"
    }

    /// Another program's drawing with our note shapes added before its end, numbered after its own
    /// shapes. Each element declares its namespaces: drawings such as openpyxl's declare them on
    /// each element, not on the root.
    static func appendingShapes(for notes: [CellNote], to vml: Data) -> [UInt8] {
        var text = String(decoding: vml, as: UTF8.self)
        guard !notes.isEmpty, let end = text.range(of: "</xml>", options: .backwards) else { return Array(vml) }
        let numbers = text.matches(of: /_x0000_s(\d+)/).compactMap { Int($0.output.1) }
        let block = text.firstMatch(of: /data="(\d+)/).flatMap { Int($0.output.1) } ?? 1
        var shapes = noteShapes(notes, firstID: max(numbers.max() ?? 0, block * 1024) + 1)
        if !text.contains("\"_x0000_t202\"") { shapes = noteShapeType + shapes }
        text.replaceSubrange(end, with: shapes + "</xml>")
        return Array(text.utf8)
    }

    static func noteShapes(_ notes: [CellNote], firstID: Int) -> String {
        var xml = ""
        let cells = Dictionary(grouping: notes, by: \.reference)
        for (index, (reference, _)) in merged(notes).enumerated() {
            let note = cells[reference]![0]
            xml += """
                <v:shape \(vmlNamespaces) id="_x0000_s\(firstID + index)" type="#_x0000_t202" \
                style="position:absolute;margin-left:80pt;margin-top:2pt;width:200pt;height:70pt;z-index:\(index + 1);visibility:hidden" \
                fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>\
                <v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>\
                <x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>\
                <x:Anchor>\(note.column + 1), 15, \(max(note.row - 2, 0)), 2, \(note.column + 4), 15, \(note.row + 3), 16</x:Anchor>\
                <x:AutoFill>False</x:AutoFill><x:Row>\(note.row - 1)</x:Row><x:Column>\(note.column)</x:Column></x:ClientData></v:shape>
                """
        }
        return xml
    }
}

/// A comments part of another program, with ours merged in: a cell already commented gets our
/// text as further runs of its comment, any other cell a new comment by the author `ntmwatch`.
struct CommentsMerge {
    private let xml: [UInt8]
    /// The cells that already have a comment, and where each comment's `</text>` starts.
    private(set) var commented: Set<String> = []
    private var textEnds: [String: Int] = [:]
    private var authorsEnd: Int?
    private var authorsEmpty: Range<Int>?
    private var listEnd: Int?
    private var listEmpty: Range<Int>?
    private var authors: [String] = []
    /// The namespace prefix of the elements (`x:` when the root is `<x:comments>`), for ours.
    private var prefix = ""

    init(xml data: Data) {
        xml = Array(data)
        var index = 0
        var current: String?
        var authorStart: Int?
        while let tag = RawTag.next(in: xml, from: index) {
            index = tag.range.upperBound
            switch (tag.name, tag.isEnd) {
            case ("comments", false):
                let qualified = String(decoding: xml[(tag.range.lowerBound + 1)...], as: UTF8.self).prefix { $0 != " " && $0 != ">" }
                if let colon = qualified.firstIndex(of: ":") { prefix = String(qualified[...colon]) }
            case ("authors", false) where tag.isEmpty: authorsEmpty = tag.range
            case ("authors", true): authorsEnd = tag.range.lowerBound
            case ("author", false): authorStart = tag.isEmpty ? nil : tag.range.upperBound
                if tag.isEmpty { authors.append("") }
            case ("author", true):
                authors.append(authorStart.map { String(decoding: xml[$0..<tag.range.lowerBound], as: UTF8.self) } ?? "")
            case ("commentList", false) where tag.isEmpty: listEmpty = tag.range
            case ("commentList", true): listEnd = tag.range.lowerBound
            case ("comment", false):
                current = tag.attribute("ref", in: xml)?.value
                if let current { commented.insert(current) }
            case ("text", true):
                if let current { textEnds[current] = tag.range.lowerBound }
            case ("comment", true): current = nil
            default: break
            }
        }
    }

    func adding(_ notes: [CellNote]) -> [UInt8] {
        let p = prefix
        var insertions: [(at: Int, remove: Int, text: String)] = []
        var authorID = authors.firstIndex(of: "ntmwatch")
        if authorID == nil {
            authorID = authors.count
            if let end = authorsEnd { insertions.append((end, 0, "<\(p)author>ntmwatch</\(p)author>")) }
            else if let empty = authorsEmpty { insertions.append((empty.lowerBound, empty.count, "<\(p)authors><\(p)author>ntmwatch</\(p)author></\(p)authors>")) }
        }
        func runs(_ texts: [String], leadingBreak: Bool) -> String {
            "<\(p)r><\(p)rPr><\(p)b/><\(p)sz val=\"9\"/></\(p)rPr><\(p)t xml:space=\"preserve\">\(leadingBreak ? "\n" : "")ntmwatch:</\(p)t></\(p)r>"
                + "<\(p)r><\(p)rPr><\(p)sz val=\"9\"/></\(p)rPr><\(p)t xml:space=\"preserve\">\n\(WorkbookWriter.escape(texts.joined(separator: "\n")))</\(p)t></\(p)r>"
        }
        var fresh = ""
        for (reference, texts) in ErrorWorkbook.merged(notes) {
            if let end = textEnds[reference] {
                insertions.append((end, 0, runs(texts, leadingBreak: true)))
            } else if !commented.contains(reference) {
                fresh += "<\(p)comment ref=\"\(reference)\" authorId=\"\(authorID!)\"><\(p)text>\(runs(texts, leadingBreak: false))</\(p)text></\(p)comment>"
            }
        }
        if let end = listEnd { insertions.append((end, 0, fresh)) }
        else if let empty = listEmpty { insertions.append((empty.lowerBound, empty.count, "<\(p)commentList>\(fresh)</\(p)commentList>")) }
        var output = xml
        for insertion in insertions.sorted(by: { $0.at > $1.at }) {
            output.replaceSubrange(insertion.at..<(insertion.at + insertion.remove), with: Array(insertion.text.utf8))
        }
        return output
    }
}

extension Array where Element == UInt8 {
    func firstRange(of needle: [UInt8], from start: Int) -> Range<Int>? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var index = start
        let first = needle[0]
        while index <= count - needle.count {
            if self[index] == first {
                var matched = true
                for offset in 1..<needle.count where self[index + offset] != needle[offset] { matched = false; break }
                if matched { return index..<(index + needle.count) }
            }
            index += 1
        }
        return nil
    }
}

/// A start, end or empty-element tag found in raw XML bytes.
struct RawTag {
    let range: Range<Int>
    let name: String
    let isEnd: Bool
    let isEmpty: Bool

    /// The next tag at or after `start`, skipping declarations, comments and CDATA.
    static func next(in xml: [UInt8], from start: Int) -> RawTag? {
        var index = start
        while index < xml.count {
            guard let open = xml[index...].firstIndex(of: UInt8(ascii: "<")) else { return nil }
            let following = open + 1 < xml.count ? xml[open + 1] : 0
            if following == UInt8(ascii: "?") || following == UInt8(ascii: "!") {
                let terminator: [UInt8] = xml[open...].starts(with: Array("<!--".utf8)) ? Array("-->".utf8)
                    : xml[open...].starts(with: Array("<![CDATA[".utf8)) ? Array("]]>".utf8) : [UInt8(ascii: ">")]
                guard let end = xml.firstRange(of: terminator, from: open + 1) else { return nil }
                index = end.upperBound
                continue
            }
            var cursor = open + 1
            var quote: UInt8 = 0
            while cursor < xml.count {
                let byte = xml[cursor]
                if quote != 0 { if byte == quote { quote = 0 } }
                else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { quote = byte }
                else if byte == UInt8(ascii: ">") { break }
                cursor += 1
            }
            guard cursor < xml.count else { return nil }
            let isEnd = following == UInt8(ascii: "/")
            var nameEnd = open + (isEnd ? 2 : 1)
            let nameStart = nameEnd
            while nameEnd < cursor, ![UInt8(ascii: " "), UInt8(ascii: "/"), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(xml[nameEnd]) {
                nameEnd += 1
            }
            let qualified = String(decoding: xml[nameStart..<nameEnd], as: UTF8.self)
            return RawTag(range: open..<(cursor + 1), name: String(localName(qualified)), isEnd: isEnd,
                          isEmpty: xml[cursor - 1] == UInt8(ascii: "/"))
        }
        return nil
    }

    func attribute(_ name: String, in xml: [UInt8]) -> (value: String, range: Range<Int>)? {
        let tag = Array(xml[range])
        for quote in ["\"", "'"] {
            for space in [" ", "\n", "\t", "\r"] {
                let needle = Array("\(space)\(name)=\(quote)".utf8)
                let quoteByte = Character(quote).asciiValue!
                guard let found = tag.firstRange(of: needle, from: 0),
                      let close = tag[found.upperBound...].firstIndex(of: quoteByte) else { continue }
                return (String(decoding: tag[found.upperBound..<close], as: UTF8.self),
                        (range.lowerBound + found.upperBound)..<(range.lowerBound + close))
            }
        }
        return nil
    }
}

/// Adds one fill and, per original cell format, one copy of it with that fill.
struct StylesPatch {
    private var xml: [UInt8]
    private var clones: [Int: Int] = [:]
    private var cloneXML: [String] = []
    private let originalFormats: [String]
    private let fillIndex: Int

    init(xml: [UInt8]) {
        self.xml = xml
        var formats: [String] = []
        var fills = 0
        var section = ""
        var depth = 0
        var index = 0
        var xfStart: Int?
        while let tag = RawTag.next(in: xml, from: index) {
            index = tag.range.upperBound
            if !tag.isEnd && (tag.name == "cellXfs" || tag.name == "fills") && !tag.isEmpty { section = tag.name; depth = 0; continue }
            if tag.isEnd && tag.name == section { section = ""; continue }
            if section == "fills", tag.name == "fill", !tag.isEnd, depth == 0 { fills += 1 }
            if section == "cellXfs", tag.name == "xf" {
                if tag.isEnd, let start = xfStart { formats.append(String(decoding: xml[start..<tag.range.upperBound], as: UTF8.self)); xfStart = nil }
                else if tag.isEmpty { formats.append(String(decoding: xml[tag.range], as: UTF8.self)) }
                else { xfStart = tag.range.lowerBound }
            }
            if section == "fills", tag.name == "fill" { depth += tag.isEnd ? -1 : (tag.isEmpty ? 0 : 1) }
        }
        originalFormats = formats.isEmpty ? ["<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"] : formats
        fillIndex = fills
    }

    /// The index of a format like `style` but with the highlight fill.
    mutating func highlighted(_ style: Int) -> Int {
        if let clone = clones[style] { return clone }
        var format = originalFormats[style < originalFormats.count ? style : 0]
        if let range = format.range(of: #"fillId="[0-9]*""#, options: .regularExpression) {
            format.replaceSubrange(range, with: "fillId=\"\(fillIndex)\"")
        } else {
            format = format.replacingOccurrences(of: "<xf ", with: "<xf fillId=\"\(fillIndex)\" ")
        }
        if let range = format.range(of: #"applyFill="[a-z0-9]*""#, options: .regularExpression) {
            format.replaceSubrange(range, with: "applyFill=\"1\"")
        } else {
            format = format.replacingOccurrences(of: "<xf ", with: "<xf applyFill=\"1\" ")
        }
        let index = originalFormats.count + cloneXML.count
        cloneXML.append(format)
        clones[style] = index
        return index
    }

    mutating func finish() -> [UInt8] {
        var text = String(decoding: xml, as: UTF8.self)
        if let end = text.range(of: "</fills>") {
            text.replaceSubrange(end, with: WorkbookWriter.highlightFill + "</fills>")
            text = Self.recount("fills", fillIndex + 1, in: text)
        }
        if let end = text.range(of: "</cellXfs>") {
            text.replaceSubrange(end, with: cloneXML.joined() + "</cellXfs>")
            text = Self.recount("cellXfs", originalFormats.count + cloneXML.count, in: text)
        }
        return Array(text.utf8)
    }

    static func recount(_ element: String, _ count: Int, in text: String) -> String {
        guard let open = text.range(of: "<\(element)[ >]", options: .regularExpression),
              let close = text[open.lowerBound...].firstIndex(of: ">") else { return text }
        var tag = String(text[open.lowerBound...close])
        if let range = tag.range(of: #"count="[0-9]*""#, options: .regularExpression) {
            tag.replaceSubrange(range, with: "count=\"\(count)\"")
        }
        return text.replacingCharacters(in: open.lowerBound...close, with: tag)
    }
}

/// Rewrites a sheet's XML in one pass: the target cells get a new style index (cells that are
/// absent, such as an empty required cell, are inserted).
enum SheetPatch {
    struct Target: Hashable { let row: Int; let column: Int }

    static func highlight(_ xml: [UInt8], cells: Set<Target>, style: (Int) -> Int) throws -> [UInt8] {
        let byRow = Dictionary(grouping: cells, by: \.row).mapValues { Set($0.map(\.column)) }
        var output: [UInt8] = []
        output.reserveCapacity(xml.count + cells.count * 40)
        var copied = 0
        var index = 0
        var rowNumber = 0
        var pending: [Int] = []   // target columns of the current row not yet met
        var remainingRows = byRow.keys.sorted()
        var column = -1
        func emitCell(_ column: Int, row: Int) {
            output += Array("<c r=\"\(CellReference.cell(column: column, row: row))\" s=\"\(style(0))\"/>".utf8)
        }
        func flush(to position: Int) { output += xml[copied..<position]; copied = position }
        func emitRows(before limit: Int) {
            while let next = remainingRows.first, next < limit {
                remainingRows.removeFirst()
                output += Array("<row r=\"\(next)\">".utf8)
                for column in byRow[next]!.sorted() { emitCell(column, row: next) }
                output += Array("</row>".utf8)
            }
        }
        while let tag = RawTag.next(in: xml, from: index) {
            index = tag.range.upperBound
            switch (tag.name, tag.isEnd) {
            case ("row", false):
                rowNumber = tag.attribute("r", in: xml).flatMap { Int($0.value) } ?? rowNumber + 1
                flush(to: tag.range.lowerBound)
                emitRows(before: rowNumber)
                column = -1
                if remainingRows.first == rowNumber { remainingRows.removeFirst() }
                pending = byRow[rowNumber].map { $0.sorted() } ?? []
                if tag.isEmpty, !pending.isEmpty {
                    // <row r="5"/> becomes <row r="5"> cells </row>.
                    output += xml[tag.range.lowerBound..<(tag.range.upperBound - 2)] + Array(">".utf8)
                    for column in pending { emitCell(column, row: rowNumber) }
                    output += Array("</row>".utf8)
                    copied = tag.range.upperBound
                    pending = []
                }
            case ("c", false):
                let reference = tag.attribute("r", in: xml)
                column = reference.flatMap { CellReference.parse($0.value)?.column } ?? column + 1
                flush(to: tag.range.lowerBound)
                while let first = pending.first, first < column { emitCell(first, row: rowNumber); pending.removeFirst() }
                guard pending.first == column else { continue }
                pending.removeFirst()
                let old = tag.attribute("s", in: xml)
                let new = style(old.flatMap { Int($0.value) } ?? 0)
                if let old {
                    flush(to: old.range.lowerBound)
                    output += Array(String(new).utf8)
                    copied = old.range.upperBound
                } else {
                    output += Array("<c s=\"\(new)\"".utf8)
                    copied = tag.range.lowerBound + 2
                }
            case ("row", true):
                flush(to: tag.range.lowerBound)
                for column in pending { emitCell(column, row: rowNumber) }
                pending = []
            case ("sheetData", true):
                flush(to: tag.range.lowerBound)
                emitRows(before: Int.max)
            default:
                break
            }
        }
        flush(to: xml.count)
        return output
    }

    /// The relationship id of the sheet's `<legacyDrawing>`, when it has one.
    static func legacyDrawingID(_ xml: [UInt8]) -> String? {
        var index = 0
        while let tag = RawTag.next(in: xml, from: index) {
            index = tag.range.upperBound
            if tag.name == "legacyDrawing", !tag.isEnd { return tag.attribute("r:id", in: xml)?.value }
        }
        return nil
    }

    /// `<legacyDrawing>` goes after every element the schema orders before it.
    static func addLegacyDrawing(_ xml: [UInt8], relationshipID: String) -> [UInt8] {
        let element = Array("<legacyDrawing xmlns:r=\"\(WorkbookWriter.relationshipNamespace)\" r:id=\"\(relationshipID)\"/>".utf8)
        let later: Set<String> = ["legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst"]
        var index = 0
        var depth = 0
        var insertion: Int?
        while let tag = RawTag.next(in: xml, from: index) {
            index = tag.range.upperBound
            if tag.name == "worksheet" {
                if tag.isEnd { insertion = insertion ?? tag.range.lowerBound }
                continue
            }
            if depth == 0, !tag.isEnd, later.contains(tag.name), insertion == nil { insertion = tag.range.lowerBound }
            if !tag.isEmpty { depth += tag.isEnd ? -1 : 1 }
        }
        guard let insertion else { return xml }
        return Array(xml[..<insertion]) + element + Array(xml[insertion...])
    }
}
