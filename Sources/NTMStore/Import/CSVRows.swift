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

    /// Why the rows end early.
    public enum Failure: Error, Equatable {
        /// A quoted field opened on this row is still open at the end of the input.
        case unterminated(row: Int)
        /// The file could not be read (the system's error number).
        case unreadable(errno: Int32)
    }

    /// Splits `text` into rows. Spaces around an unquoted field are dropped (people align
    /// columns); a quoted field is kept as written, `""` inside it being one `"`. CR LF, LF and a
    /// lone CR end a row. The delimiter is an ASCII character (`,` or `;`).
    public static func parse(_ text: String, delimiter: Character) throws(Failure) -> [Row] {
        var parser = Parser(text, delimiter: delimiter)
        var rows: [Row] = []
        while let row = try parser.next() { rows.append(row) }
        return rows
    }

    /// The rows one at a time, so that a large file is never held as rows all at once.
    public struct Parser {
        // UTF-8 bytes rather than Characters or scalars: every character that matters here
        // (quote, delimiter, CR, LF) is one ASCII byte, and a byte loop was several times faster
        // than one over scalars (which was itself several times faster than one over Characters).
        // Other scalars are decoded only where whitespace matters.
        //
        // A file is read a buffer at a time, never held whole: a row that runs past the buffer's
        // end is read again from its start once more bytes are in (the buffer doubles for a row
        // longer than itself), so no state but the row's start crosses a refill.
        private var buffer: [UInt8]
        /// How many bytes of `buffer` hold input.
        private var filled: Int
        /// Whether `buffer` holds the input's last byte.
        private var atEnd: Bool
        private let file: ReadOnlyFile?
        /// Where in the file the next read starts.
        private var fileOffset: Int
        /// Where in `buffer` the next row starts.
        private var offset = 0
        private let separator: UInt8
        private var row = 1
        private var finished = false
        /// The field being read, reused from field to field.
        private var field: [UInt8] = []

        public init(_ text: String, delimiter: Character) {
            precondition(delimiter.isASCII, "a CSV delimiter is one ASCII character")
            buffer = Array(text.utf8)
            filled = buffer.count
            atEnd = true
            file = nil
            fileOffset = 0
            separator = delimiter.asciiValue!
            field.reserveCapacity(256)
        }

        /// The rows of `file` from byte `start` (after a byte order mark), read `bufferSize` bytes
        /// at a time.
        package init(file: ReadOnlyFile, start: Int, delimiter: UInt8, bufferSize: Int) {
            buffer = [UInt8](repeating: 0, count: max(bufferSize, 1))
            filled = 0
            atEnd = false
            self.file = file
            fileOffset = start
            separator = delimiter
            field.reserveCapacity(256)
        }

        /// The next row, nil after the last; throws at the end of a file cut inside a quoted field.
        public mutating func next() throws(Failure) -> Row? {
            try next(texts: true)
        }

        /// The next row's place and shape, without making its fields' text: the same row and
        /// number of fields as ``next()``, each field "" when it would be empty and "-" otherwise.
        /// For a pass that only checks a file's shape.
        public mutating func nextShape() throws(Failure) -> Row? {
            try next(texts: false)
        }

        private mutating func next(texts: Bool) throws(Failure) -> Row? {
            guard !finished else { return nil }
            while true {
                var fields: [String] = []
                // A second reference to the buffer, not a copy: it is released before a refill.
                let bytes = buffer
                let ended = bytes.withUnsafeBufferPointer { all in
                    scanRow(UnsafeBufferPointer(rebasing: all[..<filled]), into: &fields, texts: texts)
                }
                switch ended {
                case .row:
                    defer { row += 1 }
                    return Row(row: row, fields: fields)
                case .nothing:
                    return nil
                case .unterminated:
                    throw .unterminated(row: row)
                case .more:
                    try refill()
                }
            }
        }

        /// Keeps the row being read at the buffer's start and reads what follows it.
        private mutating func refill() throws(Failure) {
            guard let file else { atEnd = true; return }
            if offset > 0 {
                let (start, count) = (offset, filled - offset)
                buffer.withUnsafeMutableBytes { raw in
                    if count > 0 { memmove(raw.baseAddress!, raw.baseAddress! + start, count) }
                }
                filled = count
                offset = 0
            }
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let from = filled, at = fileOffset
            let result = buffer.withUnsafeMutableBytes { raw in
                file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[from...]), at: at)
            }
            switch result {
            case .success(0): atEnd = true
            case .success(let count): filled += count; fileOffset += count
            case .failure(let failure): throw .unreadable(errno: failure.code)
            }
        }

        /// `more`: the row runs past the bytes read so far.
        private enum End { case row, nothing, unterminated, more }

        /// Reads one row's fields from `offset`, exactly as a loop over the text's scalars would:
        /// the states are the same (inside quotes, after a closing quote), only the unit is a byte.
        /// Before the input's end, a row that might go on past the bytes read is `more`, `offset`
        /// left at its start: a look-ahead (a doubled quote, CR LF) needs the next byte too.
        private mutating func scanRow(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout [String], texts: Bool) -> End {
            var field = self.field
            self.field = []
            defer { field.removeAll(keepingCapacity: true); self.field = field }
            var position = offset
            let end = bytes.count
            let atEnd = self.atEnd
            var quoted = false          // inside a quoted field
            var wasQuoted = false       // the current field was quoted (keep its spaces)
            var allWhitespace = true    // every scalar of the current field so far is whitespace
            // An unquoted field without a quote, read in one go: its bytes, left where they are.
            var span: Range<Int>?

            func endField() {
                if let whole = span {
                    let text = UnsafeBufferPointer(rebasing: bytes[whole])
                    fields.append(!texts ? (isBlank(text) ? "" : "-") : trimmedBlanks(text))
                    span = nil
                } else if !texts {
                    fields.append(field.isEmpty || (!wasQuoted && field.withUnsafeBufferPointer(isBlank)) ? "" : "-")
                } else {
                    fields.append(wasQuoted ? String(decoding: field, as: UTF8.self) : field.withUnsafeBufferPointer(trimmedBlanks))
                }
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
                allWhitespace = true
            }
            /// Appends the scalar at `start` (one to four bytes) and returns where the next begins.
            func append(at start: Int) -> Int {
                let length = scalarLength(bytes[start])
                for index in start..<min(start + length, end) { field.append(bytes[index]) }
                if allWhitespace && !isWhitespace(bytes, at: start) { allWhitespace = false }
                return start + length
            }

            while position < end {
                if span == nil && !quoted && !wasQuoted && field.isEmpty {
                    // Most fields hold no quote: found whole by their end, their text made once
                    // from the buffer, not a byte at a time. A field with a quote anywhere is
                    // read by the loop below, from its start, as every field once was.
                    var stop = position
                    while stop < end {
                        let byte = bytes[stop]
                        if byte == separator || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\"") { break }
                        stop += 1
                    }
                    if stop == end && !atEnd { return .more }
                    if stop == end || bytes[stop] != UInt8(ascii: "\"") {
                        span = position..<stop
                        position = stop
                        continue
                    }
                }
                let byte = bytes[position]
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        position += 1
                        if position == end && !atEnd { return .more }
                        if position < end, bytes[position] == UInt8(ascii: "\"") {
                            position = append(at: position)
                        } else {
                            quoted = false
                        }
                    } else {
                        position = append(at: position)
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\"") where allWhitespace:
                    field.removeAll(keepingCapacity: true)
                    quoted = true
                    wasQuoted = true
                    position += 1
                case separator:
                    endField()
                    position += 1
                case UInt8(ascii: "\r"):
                    // CR LF or a lone CR ends the row.
                    position += 1
                    if position == end && !atEnd { return .more }
                    if position < end, bytes[position] == UInt8(ascii: "\n") { position += 1 }
                    endField()
                    offset = position
                    return .row
                case UInt8(ascii: "\n"):
                    position += 1
                    endField()
                    offset = position
                    return .row
                case _ where wasQuoted && isWhitespace(bytes, at: position):
                    // Spaces after a closing quote: alignment, not content.
                    position += scalarLength(byte)
                default:
                    // Text after a closing quote, or a quote inside an unquoted field, is kept as written.
                    position = append(at: position)
                }
            }
            if !atEnd { return .more }
            finished = true
            offset = position
            if quoted { return .unterminated }
            if !field.isEmpty || !fields.isEmpty || wasQuoted || !(span?.isEmpty ?? true) {
                endField()
                return .row
            }
            return .nothing
        }
    }
}

/// The length of the UTF-8 sequence a lead byte starts.
private func scalarLength(_ lead: UInt8) -> Int {
    lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
}

/// The scalar whose UTF-8 sequence starts at `start` (the text is valid UTF-8: a String's, or a
/// file's checked by ``UTF8Check``; a sequence cut by the buffer's end reads as its lead byte, and
/// its row is read again once the rest is in).
private func scalar(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Unicode.Scalar {
    let lead = bytes[start]
    let length = scalarLength(lead)
    guard length > 1, start + length <= bytes.count else { return Unicode.Scalar(lead) }
    var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
    for index in start + 1..<start + length { value = value << 6 | UInt32(bytes[index] & 0x3F) }
    return Unicode.Scalar(value) ?? "\u{FFFD}"
}

/// Unicode's White_Space, as `Unicode.Scalar.Properties.isWhitespace` says.
private func isWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
    let byte = bytes[start]
    if byte < 0x80 { return byte == 0x20 || (0x09...0x0D).contains(byte) }
    return scalar(bytes, at: start).properties.isWhitespace
}

/// Whether the scalar at `index` is a blank Foundation's `.whitespaces` means: tab or a space separator.
private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
    let byte = bytes[index]
    if byte < 0x80 { return byte == 0x20 || byte == 0x09 }
    return scalar(bytes, at: index).properties.generalCategory == .spaceSeparator
}

/// Whether the field holds only blanks (it trims to nothing).
private func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    while index < bytes.count {
        guard isBlank(bytes, at: index) else { return false }
        index += scalarLength(bytes[index])
    }
    return true
}

/// The field without the leading and trailing blanks Foundation's `.whitespaces` means (tab and
/// the space separators), without bridging every cell through NSString.
private func trimmedBlanks(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    func isBlank(at index: Int) -> Bool { NTMStore.isBlank(bytes, at: index) }
    var first = 0
    while first < bytes.count, isBlank(at: first) { first += scalarLength(bytes[first]) }
    var last = bytes.count
    while last > first {
        var start = last - 1
        while start > first, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard isBlank(at: start) else { break }
        last = start
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[first..<last]), as: UTF8.self)
}
