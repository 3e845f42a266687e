import CheckKit
import Foundation

/// A CSV or JSON file read as records of text cells, with the row number a person would look
/// for: in a CSV, the spreadsheet row (the header is row 1); in JSON, the array index from 1.
///
/// A record holds a cell for every column its row gives, empty or not; a column the row does not
/// give (absent from a CSV header, or a key absent from a JSON object) has no cell. The importer
/// keeps the stored value of an absent column and clears it for an empty cell.
package struct TabularFile {
    package struct Record {
        package let row: Int
        /// One value per header of the file, in the header's order: the cell's text ("" for an
        /// empty cell or a JSON null), or nil where the row does not give the column (a key absent
        /// from a JSON object). Positions, not a dictionary per row: building one was a large part
        /// of an import's time.
        package let values: [String?]

        package init(row: Int, values: [String?]) { self.row = row; self.values = values }

        /// The value at a header position; nil beyond the row's values.
        package func value(at position: Int) -> String? {
            position < values.count ? values[position] : nil
        }
    }

    /// The records, in file order. A CSV file's are made from its text as they are read, so a
    /// large file is never held as records all at once (a 10,000-commune province took ~900 MB).
    package struct Records: Sequence {
        fileprivate enum Source {
            case list([Record])
            case csv(text: String, delimiter: Character)
        }
        fileprivate let source: Source
        /// How many there are.
        package let count: Int

        package func makeIterator() -> AnyIterator<Record> {
            switch source {
            case .list(let records):
                return AnyIterator(records.makeIterator())
            case .csv(let text, let delimiter):
                var parser = CSVRows.Parser(text, delimiter: delimiter)
                var isHeader = true
                return AnyIterator {
                    // The file was read whole once when it was opened: it ends, and every row has
                    // the header's width.
                    while let row = try? parser.next() {
                        if isHeader { isHeader = false; continue }
                        if row.fields.allSatisfy({ $0.isEmpty }) { continue }
                        return Record(row: row.row, values: row.fields.map { NameKey.nfc($0) as String? })
                    }
                    return nil
                }
            }
        }
    }

    package let path: String
    /// Headers as written, and normalized.
    package let headers: [(written: String, key: String)]
    package let records: Records

    package init(path: String, headers: [(written: String, key: String)], records: [Record]) {
        self.path = path; self.headers = headers; self.records = Records(source: .list(records), count: records.count)
    }

    private init(path: String, headers: [(written: String, key: String)], csv text: String, delimiter: Character, count: Int) {
        self.path = path; self.headers = headers
        self.records = Records(source: .csv(text: text, delimiter: delimiter), count: count)
    }

    static func read(path: String) throws -> TabularFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(file: path, problems: [.init(row: nil, column: nil, value: nil, reason: "cannot read the file")])
        }
        guard var text = String(data: data, encoding: .utf8) else {
            let line = firstLineNotUTF8(data)
            throw ImportError(file: path, problems: [.init(row: line, column: nil, value: nil, reason: LocalizedText(
                vi: "dòng \(line) không phải văn bản UTF-8; trong Excel hãy lưu tệp dạng \"CSV UTF-8\"",
                en: "line \(line) is not UTF-8 text; in Excel save the file as \"CSV UTF-8\""))])
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if path.lowercased().hasSuffix(".json") { return try readJSON(text, path: path) }
        return try readCSV(text, path: path)
    }

    /// The first line (from 1) holding bytes that are not UTF-8, so the person can find it.
    static func firstLineNotUTF8(_ data: Data) -> Int {
        var line = 1
        for piece in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if String(data: Data(piece), encoding: .utf8) == nil { return line }
            line += 1
        }
        return line
    }

    /// Header names are compared after NFC, case folding and collapsing spaces and underscores,
    /// so `Tên đơn vị`, `tên_đơn_vị` and `TÊN ĐƠN VỊ` are the same column.
    package static func headerKey(_ header: String) -> String {
        NameKey.exact(header.replacingOccurrences(of: "_", with: " "))
    }

    private static func readCSV(_ text: String, path: String) throws -> TabularFile {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" }
        // Excel in locales whose decimal mark is a comma saves with semicolons.
        let delimiter: Character = firstLine.contains(";") && !firstLine.contains(",") ? ";" : ","
        // A first pass checks the whole file's shape and counts its records without keeping
        // them; the records are made again, one at a time, as the import reads them.
        var parser = CSVRows.Parser(text, delimiter: delimiter)
        /// The next row (only its shape, unless `texts`); a file cut inside quotes is refused.
        func next(texts: Bool = true) throws -> CSVRows.Row? {
            do {
                return try texts ? parser.next() : parser.nextShape()
            } catch {
                throw unterminated(error, path: path)
            }
        }
        guard let header = try next(), !header.fields.allSatisfy(\.isEmpty) else {
            throw ImportError(file: path, problems: [.init(row: 1, column: nil, value: nil, reason: "no header row")])
        }
        let headers = header.fields.map { ($0, headerKey($0)) }
        // The shapes alone first, without the fields' text; the text is made again only to
        // describe a row of the wrong width.
        var count = 0
        while true {
            guard let row = try next(texts: false) else {
                return TabularFile(path: path, headers: headers, csv: text, delimiter: delimiter, count: count)
            }
            if row.fields.allSatisfy({ $0.isEmpty }) { continue }
            guard row.fields.count == headers.count else { break }
            count += 1
        }
        parser = CSVRows.Parser(text, delimiter: delimiter)
        _ = try next()
        var problems: [ImportError.Problem] = []
        while let row = try next() {
            if row.fields.allSatisfy({ $0.isEmpty }) { continue }
            // A row with fewer or more cells than the header would shift or drop values: a file
            // cut mid-row, a stray delimiter, an unquoted comma in a name.
            if row.fields.count < headers.count {
                let missing = headers[row.fields.count...].map(\.0)
                problems.append(.init(row: row.row, column: missing[0], value: nil, reason: LocalizedText(
                    vi: "dòng có \(row.fields.count) ô nhưng tiêu đề có \(headers.count) cột; thiếu: \(missing.joined(separator: ", ")) (tệp bị cắt, hoặc thiếu dấu phân cách)",
                    en: "the row has \(row.fields.count) cells but the header \(headers.count) columns; missing: \(missing.joined(separator: ", ")) (a cut file, or a missing delimiter)")))
                continue
            }
            if row.fields.count > headers.count {
                problems.append(.init(row: row.row, column: nil, value: row.fields[headers.count], reason: LocalizedText(
                    vi: "dòng có \(row.fields.count) ô nhưng tiêu đề chỉ có \(headers.count) cột; ô thừa bắt đầu từ ô thứ \(headers.count + 1) (dấu phẩy trong tên cần đặt trong ngoặc kép)",
                    en: "the row has \(row.fields.count) cells but the header only \(headers.count) columns; the extra cells start at cell \(headers.count + 1) (quote a name that holds a comma)")))
                continue
            }
        }
        throw ImportError(file: path, problems: problems)
    }

    private static func unterminated(_ error: CSVRows.Unterminated, path: String) -> ImportError {
        ImportError(file: path, problems: [.init(row: error.row, column: nil, value: nil, reason: LocalizedText(
            vi: "dấu ngoặc kép mở ở dòng \(error.row) không được đóng đến hết tệp: tệp bị cắt giữa chừng hoặc thiếu dấu \"",
            en: "the quote opened on row \(error.row) is never closed: the file is cut short or a \" is missing"))])
    }

    /// A JSON cell, kept as the text a CSV would have held.
    private struct JSONCell: Decodable {
        let text: String?

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            // null is an empty cell (clear the value), as an empty CSV cell is; a key left out is an absent column.
            if container.decodeNil() { text = "" }
            else if let string = try? container.decode(String.self) { text = string }
            else if let integer = try? container.decode(Int64.self) { text = String(integer) }
            else if let number = try? container.decode(Double.self) { text = String(number) }
            else if let flag = try? container.decode(Bool.self) { text = flag ? "true" : "false" }
            else if let list = try? container.decode([JSONCell].self) { text = list.compactMap(\.text).filter { !$0.isEmpty }.joined(separator: ",") }
            else if let table = try? container.decode([String: Double].self),
                    let data = try? JSONEncoder.sorted.encode(table) { text = String(decoding: data, as: UTF8.self) }
            else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported value") }
        }
    }

    private static func readJSON(_ text: String, path: String) throws -> TabularFile {
        let objects: [[String: JSONCell]]
        do {
            objects = try JSONDecoder().decode([[String: JSONCell]].self, from: Data(text.utf8))
        } catch let DecodingError.dataCorrupted(context), let DecodingError.typeMismatch(_, context) {
            let row = context.codingPath.first?.intValue.map { $0 + 1 }
            let column = context.codingPath.dropFirst().first?.stringValue
            throw ImportError(file: path, problems: [.init(row: row, column: column, value: nil,
                reason: "expected a JSON array of objects with text, number or boolean values: \(context.debugDescription)")])
        } catch {
            throw ImportError(file: path, problems: [.init(row: nil, column: nil, value: nil, reason: "not valid JSON: \(error)")])
        }
        var headers: [(written: String, key: String)] = []
        var positionOf: [String: Int] = [:]
        var rows: [[String?]] = []
        for object in objects {
            var values: [String?] = []
            for (name, cell) in object.sorted(by: { $0.key < $1.key }) {
                let key = headerKey(name)
                let position = positionOf[key] ?? headers.count
                if position == headers.count { positionOf[key] = position; headers.append((name, key)) }
                if values.count <= position { values += Array(repeating: nil, count: position + 1 - values.count) }
                if let text = cell.text { values[position] = NameKey.nfc(text.trimmingCharacters(in: .whitespaces)) }
            }
            rows.append(values)
        }
        // An object without a later object's key does not give that column.
        let records = rows.enumerated().map { index, values in
            Record(row: index + 1, values: values + Array(repeating: nil, count: headers.count - values.count))
        }
        return TabularFile(path: path, headers: headers, records: records)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// Normalized forms of names, for matching what people type against what the store holds.
public enum NameKey {
    public static func nfc(_ text: String) -> String {
        // ASCII is its own NFC; most cells (ids, dates, numbers) are, and Foundation's
        // normalization of every cell was an eighth of an import's time.
        text.utf8.allSatisfy { $0 < 0x80 } ? text : text.precomposedStringWithCanonicalMapping
    }

    /// NFC, lower-case, single spaces. Keeps diacritics: "Tam Thanh" and "Tam Thành" are two communes.
    public static func exact(_ text: String) -> String {
        nfc(text).lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// ``exact(_:)`` without diacritics (and đ → d), for a unique match when the exact one fails.
    public static func folded(_ text: String) -> String {
        exact(text).replacingOccurrences(of: "đ", with: "d")
            .folding(options: [.diacriticInsensitive], locale: Locale(identifier: "vi_VN"))
    }
}
