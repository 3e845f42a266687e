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
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var quoted = false          // inside a quoted field
        var wasQuoted = false       // the current field was quoted (keep its spaces)
        var row = 1
        var characters = text.makeIterator()
        var pending: Character? = nil

        func endField() {
            fields.append(wasQuoted ? field : field.trimmingCharacters(in: .whitespaces))
            field = ""
            wasQuoted = false
        }
        func endRow() {
            endField()
            rows.append(Row(row: row, fields: fields))
            fields = []
            row += 1
        }

        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.allSatisfy(\.isWhitespace):
                field = ""
                quoted = true
                wasQuoted = true
            case delimiter:
                endField()
            case "\r\n", "\n", "\r":
                endRow()
            case _ where wasQuoted && character.isWhitespace:
                continue                // spaces after a closing quote: alignment, not content
            default:
                // Text after a closing quote, or a quote inside an unquoted field, is kept as written.
                field.append(character)
            }
        }
        if quoted { throw Unterminated(row: row) }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRow() }
        return rows
    }
}
