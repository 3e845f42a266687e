import CheckKit
import Foundation

/// A CSV or JSON file read as records of text cells, with the row number a person would look
/// for: in a CSV, the spreadsheet row (the header is row 1); in JSON, the array index from 1.
///
/// A record holds a cell for every column its row gives, empty or not; a column the row does not
/// give (absent from a CSV header, or a key absent from a JSON object) has no cell. The importer
/// keeps the stored value of an absent column and clears it for an empty cell.
package struct TabularFile: Sendable {
    package struct Record: Sendable {
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

    /// The records, in file order. A CSV file's are read from the file again at each pass, a
    /// buffer at a time, so that neither the file nor its records are ever held whole (a
    /// 10,000-commune province took ~900 MB as records, ~1 GB as text at the large size).
    package struct Records: Sendable {
        fileprivate enum Source: Sendable {
            case list([Record])
            case csv(CSVSource)
        }
        fileprivate let source: Source
        /// How many there are.
        package let count: Int

        /// A pass over the records from the first.
        package func reader() -> Reader {
            switch source {
            case .list(let records): Reader(records: records, csv: nil)
            case .csv(let csv): Reader(records: [], csv: csv)
            }
        }

        /// Every record at once, for a small file.
        package func all() throws -> [Record] {
            var reader = reader()
            var records: [Record] = []
            while let record = try reader.next() { records.append(record) }
            return records
        }

        package struct Reader {
            // Stored apart, not in an enum: a parser bound out of an enum case would be a second
            // reference to its buffers, copied at each write.
            private let records: [Record]
            private var index = 0
            private let csv: CSVSource?
            private var parser: CSVRows.Parser?

            fileprivate init(records: [Record], csv: CSVSource?) { self.records = records; self.csv = csv }

            /// The next record; nil after the last. Throws when a CSV file changed since its shape
            /// was checked, or can no longer be read.
            package mutating func next() throws -> Record? {
                guard let csv else {
                    guard index < records.count else { return nil }
                    defer { index += 1 }
                    return records[index]
                }
                if parser == nil {
                    guard csv.file.version == csv.version else { throw csv.changed() }
                    parser = CSVRows.Parser(file: csv.file, start: csv.start, delimiter: csv.delimiter, bufferSize: TabularFile.bufferSize)
                    _ = try csv.rethrow { () throws(CSVRows.Failure) -> CSVRows.Row? in try parser!.nextShape() }
                }
                while let row = try csv.rethrow({ () throws(CSVRows.Failure) -> CSVRows.Row? in try parser!.next() }) {
                    if row.fields.allSatisfy({ $0.isEmpty }) { continue }
                    guard row.fields.count == csv.width else { throw csv.changed() }
                    return Record(row: row.row, values: row.fields.map { NameKey.nfc($0) as String? })
                }
                return nil
            }
        }
    }

    /// A CSV file whose text and shape were checked whole: what a record pass needs to read it again.
    fileprivate struct CSVSource: Sendable {
        let path: String
        let file: ReadOnlyFile
        /// After the byte order mark, if any.
        let start: Int
        let delimiter: UInt8
        /// Every record's number of fields: the header's.
        let width: Int
        /// The file as it was checked.
        let version: ReadOnlyFile.Version?

        func changed() -> ImportError {
            ImportError(file: path, problems: [.init(row: nil, column: nil, value: nil, reason: LocalizedText(
                vi: "tệp đã bị thay đổi trong khi nhập; hãy nhập lại khi không còn chương trình nào ghi vào tệp",
                en: "the file changed while it was being imported; import it again once nothing writes to it"))])
        }

        func rethrow<T>(_ body: () throws(CSVRows.Failure) -> T) throws -> T {
            do { return try body() } catch { throw TabularFile.refusal(error, path: path) }
        }
    }

    package let path: String
    /// Headers as written, and normalized.
    package let headers: [(written: String, key: String)]
    package let records: Records

    package init(path: String, headers: [(written: String, key: String)], records: [Record]) {
        self.path = path; self.headers = headers; self.records = Records(source: .list(records), count: records.count)
    }

    private init(path: String, headers: [(written: String, key: String)], csv: CSVSource, count: Int) {
        self.path = path; self.headers = headers
        self.records = Records(source: .csv(csv), count: count)
    }

    /// A CSV file is checked here (UTF-8, shape) but its records are read only as they are used;
    /// a JSON file is read whole (the decoder needs all of it; JSON imports are small).
    static func read(path: String) throws -> TabularFile {
        if path.lowercased().hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: path) else { throw cannotRead(path) }
            if let line = data.withUnsafeBytes({ firstLineNotUTF8($0) }) { throw notUTF8(line: line, path: path) }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            return try readJSON(text, path: path)
        }
        guard let file = ReadOnlyFile(path: path) else { throw cannotRead(path) }
        let version = file.version
        let start = try checkText(file, path: path)
        return try readCSV(file, start: start, version: version, path: path)
    }

    private static func cannotRead(_ path: String) -> ImportError {
        ImportError(file: path, problems: [.init(row: nil, column: nil, value: nil, reason: "cannot read the file")])
    }

    private static func notUTF8(line: Int, path: String) -> ImportError {
        ImportError(file: path, problems: [.init(row: line, column: nil, value: nil, reason: LocalizedText(
            vi: "dòng \(line) không phải văn bản UTF-8; trong Excel hãy lưu tệp dạng \"CSV UTF-8\"",
            en: "line \(line) is not UTF-8 text; in Excel save the file as \"CSV UTF-8\""))])
    }

    /// The size of the buffer a CSV file is read through. Parsing 5 MB of assessments took the
    /// same instructions (callgrind: 969 M) through 64 KiB or 1 MiB buffers as from the file held
    /// whole as a String (970 M), so the smaller; a row longer than the buffer doubles it.
    static let bufferSize = 64 << 10

    /// Checks that the whole file is UTF-8, a buffer at a time, and returns where its text starts
    /// (after a byte order mark).
    private static func checkText(_ file: ReadOnlyFile, path: String) throws -> Int {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        var offset = 0      // the file offset of buffer[0]
        var kept = 0        // bytes at the buffer's start carried over: a sequence the last read cut
        while true {
            let result = buffer.withUnsafeMutableBytes { file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[kept...]), at: offset + kept) }
            guard case .success(let count) = result else { throw cannotRead(path) }
            let available = kept + count
            let outcome = buffer.withUnsafeBytes { UTF8Check.check(UnsafeRawBufferPointer(rebasing: $0[..<available])) }
            switch outcome {
            case .invalid(let at):
                throw notUTF8(line: try line(at: offset + at, in: file, path: path), path: path)
            case .cut(let at) where count == 0:
                throw notUTF8(line: try line(at: offset + at, in: file, path: path), path: path)
            case .cut(let at):
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + at, available - at) }
                kept = available - at
                offset += at
            case .valid:
                kept = 0
                offset += available
            }
            if count == 0 { break }
        }
        var bom = [UInt8](repeating: 0, count: 3)
        let read = bom.withUnsafeMutableBytes { file.read(into: $0, at: 0) }
        return read == .success(3) && bom == [0xEF, 0xBB, 0xBF] ? 3 : 0
    }

    /// The line (from 1) holding the byte at `offset`, so the person can find it.
    private static func line(at offset: Int, in file: ReadOnlyFile, path: String) throws -> Int {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        var line = 1, position = 0
        while position < offset {
            let result = buffer.withUnsafeMutableBytes { raw in
                file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<min(raw.count, offset - position)]), at: position)
            }
            guard case .success(let count) = result, count > 0 else { throw cannotRead(path) }
            for byte in buffer[..<count] where byte == UInt8(ascii: "\n") { line += 1 }
            position += count
        }
        return line
    }

    /// The first line (from 1) holding bytes that are not UTF-8; nil when there is none.
    static func firstLineNotUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
        switch UTF8Check.check(bytes) {
        case .valid: return nil
        case .invalid(let at), .cut(let at): return 1 + bytes[..<at].lazy.filter { $0 == UInt8(ascii: "\n") }.count
        }
    }

    /// Header names are compared after NFC, case folding and collapsing spaces and underscores,
    /// so `Tên đơn vị`, `tên_đơn_vị` and `TÊN ĐƠN VỊ` are the same column.
    package static func headerKey(_ header: String) -> String {
        NameKey.exact(header.replacingOccurrences(of: "_", with: " "))
    }

    private static func readCSV(_ file: ReadOnlyFile, start: Int, version: ReadOnlyFile.Version?, path: String) throws -> TabularFile {
        // Excel in locales whose decimal mark is a comma saves with semicolons.
        let delimiter = try firstLineDelimiter(file, start: start, path: path)
        // A first pass checks the whole file's shape and counts its records without keeping
        // them; the records are made again, one at a time, as the import reads them.
        var parser = CSVRows.Parser(file: file, start: start, delimiter: delimiter, bufferSize: bufferSize)
        /// The next row (only its shape, unless `texts`); a file cut inside quotes is refused.
        func next(texts: Bool = true) throws -> CSVRows.Row? {
            do {
                return try texts ? parser.next() : parser.nextShape()
            } catch {
                throw refusal(error, path: path)
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
                let source = CSVSource(path: path, file: file, start: start, delimiter: delimiter, width: headers.count, version: version)
                return TabularFile(path: path, headers: headers, csv: source, count: count)
            }
            if row.fields.allSatisfy({ $0.isEmpty }) { continue }
            guard row.fields.count == headers.count else { break }
            count += 1
        }
        parser = CSVRows.Parser(file: file, start: start, delimiter: delimiter, bufferSize: bufferSize)
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

    /// `;` when the first line holds a semicolon and no comma, else `,`.
    private static func firstLineDelimiter(_ file: ReadOnlyFile, start: Int, path: String) throws -> UInt8 {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var (position, semicolon, comma) = (start, false, false)
        while true {
            let result = buffer.withUnsafeMutableBytes { file.read(into: $0, at: position) }
            guard case .success(let count) = result else { throw cannotRead(path) }
            for byte in buffer[..<count] {
                switch byte {
                case UInt8(ascii: "\n"): return semicolon && !comma ? UInt8(ascii: ";") : UInt8(ascii: ",")
                case UInt8(ascii: ";"): semicolon = true
                case UInt8(ascii: ","): comma = true
                default: break
                }
            }
            if count == 0 { return semicolon && !comma ? UInt8(ascii: ";") : UInt8(ascii: ",") }
            position += count
        }
    }

    /// A parser's failure as the import reports it.
    fileprivate static func refusal(_ failure: CSVRows.Failure, path: String) -> ImportError {
        switch failure {
        case .unterminated(let row):
            ImportError(file: path, problems: [.init(row: row, column: nil, value: nil, reason: LocalizedText(
                vi: "dấu ngoặc kép mở ở dòng \(row) không được đóng đến hết tệp: tệp bị cắt giữa chừng hoặc thiếu dấu \"",
                en: "the quote opened on row \(row) is never closed: the file is cut short or a \" is missing"))])
        case .unreadable:
            cannotRead(path)
        }
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
