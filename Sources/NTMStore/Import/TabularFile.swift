import CSV
import Foundation

/// A CSV or JSON file read as records of text cells, with the row number a person would look
/// for: in a CSV, the spreadsheet row (the header is row 1); in JSON, the array index from 1.
struct TabularFile {
    struct Record {
        let row: Int
        /// Normalized header → cell text.
        let cells: [String: String]
    }

    let path: String
    /// Headers as written, and normalized.
    let headers: [(written: String, key: String)]
    let records: [Record]

    static func read(path: String) throws -> TabularFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(file: path, problems: [.init(row: nil, column: nil, value: nil, reason: "cannot read the file")])
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw ImportError(file: path, problems: [.init(row: nil, column: nil, value: nil,
                reason: "the file is not UTF-8 text; in Excel save it as \"CSV UTF-8\"")])
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if path.lowercased().hasSuffix(".json") { return try readJSON(text, path: path) }
        return try readCSV(text, path: path)
    }

    /// Header names are compared after NFC, case folding and collapsing spaces and underscores,
    /// so `Tên đơn vị`, `tên_đơn_vị` and `TÊN ĐƠN VỊ` are the same column.
    static func headerKey(_ header: String) -> String {
        NameKey.exact(header.replacingOccurrences(of: "_", with: " "))
    }

    private static func readCSV(_ text: String, path: String) throws -> TabularFile {
        let firstLine = text.prefix { $0 != "\n" && $0 != "\r\n" }
        // Excel in locales whose decimal mark is a comma saves with semicolons.
        let delimiter: UnicodeScalar = firstLine.contains(";") && !firstLine.contains(",") ? ";" : ","
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true, delimiter: delimiter)
        } catch {
            throw ImportError(file: path, problems: [.init(row: 1, column: nil, value: nil, reason: "no header row")])
        }
        let written = reader.headerRow ?? []
        let headers = written.map { ($0, headerKey($0)) }
        var records: [Record] = []
        var row = 1
        while let fields = reader.next() {
            row += 1
            if fields.allSatisfy({ $0.isEmpty }) { continue }
            var cells: [String: String] = [:]
            for (index, field) in fields.enumerated() where index < headers.count {
                cells[headers[index].1] = NameKey.nfc(field)
            }
            records.append(Record(row: row, cells: cells))
        }
        if let error = reader.error {
            throw ImportError(file: path, problems: [.init(row: row + 1, column: nil, value: nil, reason: "unreadable CSV: \(error)")])
        }
        return TabularFile(path: path, headers: headers, records: records)
    }

    /// A JSON cell, kept as the text a CSV would have held.
    private struct JSONCell: Decodable {
        let text: String?

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { text = nil }
            else if let string = try? container.decode(String.self) { text = string }
            else if let integer = try? container.decode(Int64.self) { text = String(integer) }
            else if let number = try? container.decode(Double.self) { text = String(number) }
            else if let flag = try? container.decode(Bool.self) { text = flag ? "true" : "false" }
            else if let list = try? container.decode([JSONCell].self) { text = list.compactMap(\.text).joined(separator: ",") }
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
        var seen = Set<String>()
        var records: [Record] = []
        for (index, object) in objects.enumerated() {
            var cells: [String: String] = [:]
            for (name, cell) in object.sorted(by: { $0.key < $1.key }) {
                let key = headerKey(name)
                if seen.insert(key).inserted { headers.append((name, key)) }
                if let text = cell.text { cells[key] = NameKey.nfc(text.trimmingCharacters(in: .whitespaces)) }
            }
            records.append(Record(row: index + 1, cells: cells))
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
    public static func nfc(_ text: String) -> String { text.precomposedStringWithCanonicalMapping }

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
