import Foundation

/// RFC 4180 CSV as spreadsheets write it, split into rows of fields, each with the spreadsheet row
/// it starts on. Written here rather than taken from a library because the import must tell a
/// file cut inside a quoted field from a complete one, which the library read silently to the end.
public enum CSVRows {
    public struct Row {
        /// The spreadsheet row: 1 for the header. A quoted field holding line breaks spans several
        /// lines of the file but is one row, as in the spreadsheet.
        public let row: Int
        public let fields: [String]
    }

    /// A quoted field still open at the end of the file.
    public struct Unterminated: Error {
        public let row: Int
    }

    /// Splits `text` into rows. Spaces around an unquoted field are dropped (people align
    /// columns); a quoted field is kept as written, `""` inside it being one `"`. CR LF, LF and a
    /// lone CR end a row.
    public static func parse(_ text: String, delimiter: Character) throws(Unterminated) -> [Row] {
        var parser = Parser(text, delimiter: delimiter)
        var rows: [Row] = []
        while let row = try parser.next() { rows.append(row) }
        return rows
    }

    /// The rows one at a time, so that a large file is never held as rows all at once.
    public struct Parser {
        // Unicode scalars rather than Characters: several times faster, and every character that
        // matters here (quote, delimiter, CR, LF) is one scalar.
        private var scalars: String.UnicodeScalarView.Iterator
        private let separator: Unicode.Scalar
        private var pending: Unicode.Scalar? = nil
        private var row = 1
        private var finished = false

        public init(_ text: String, delimiter: Character) {
            scalars = text.unicodeScalars.makeIterator()
            separator = delimiter.unicodeScalars.first!
        }

        /// The next row, nil after the last; throws at the end of a file cut inside a quoted field.
        public mutating func next() throws(Unterminated) -> Row? {
            guard !finished else { return nil }
            var fields: [String] = []
            var field = String.UnicodeScalarView()
            var quoted = false          // inside a quoted field
            var wasQuoted = false       // the current field was quoted (keep its spaces)

            func endField() {
                fields.append(wasQuoted ? String(field) : String(trimmingBlanks(field)))
                field = String.UnicodeScalarView()
                wasQuoted = false
            }
            func endRow() -> Row {
                endField()
                defer { row += 1 }
                return Row(row: row, fields: fields)
            }

            while let scalar = pending ?? scalars.next() {
                pending = nil
                if quoted {
                    if scalar == "\"" {
                        if let next = scalars.next() {
                            if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                        } else {
                            quoted = false
                        }
                    } else {
                        field.append(scalar)
                    }
                    continue
                }
                switch scalar {
                case "\"" where field.allSatisfy({ $0.properties.isWhitespace }):
                    field = String.UnicodeScalarView()
                    quoted = true
                    wasQuoted = true
                case separator:
                    endField()
                case "\r":
                    // CR LF or a lone CR ends the row.
                    if let next = scalars.next(), next != "\n" { pending = next }
                    return endRow()
                case "\n":
                    return endRow()
                case _ where wasQuoted && scalar.properties.isWhitespace:
                    continue                // spaces after a closing quote: alignment, not content
                default:
                    // Text after a closing quote, or a quote inside an unquoted field, is kept as written.
                    field.append(scalar)
                }
            }
            finished = true
            if quoted { throw Unterminated(row: row) }
            if !field.isEmpty || !fields.isEmpty || wasQuoted { return endRow() }
            return nil
        }
    }
}

/// The field without the leading and trailing blanks Foundation's `.whitespaces` means (tab and
/// the space separators), without bridging every cell through NSString.
private func trimmingBlanks(_ field: String.UnicodeScalarView) -> Substring.UnicodeScalarView {
    func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || (scalar.value > 0x7f && scalar.properties.generalCategory == .spaceSeparator)
    }
    guard let first = field.firstIndex(where: { !isBlank($0) }), let last = field.lastIndex(where: { !isBlank($0) }) else {
        return field[field.endIndex...]
    }
    return field[first...last]
}
