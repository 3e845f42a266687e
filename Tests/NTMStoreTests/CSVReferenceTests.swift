import Foundation
import Testing
@testable import NTMStore

/// The byte parser against the rules written out plainly over scalars: the same rows, fields and
/// shapes for random texts of the characters that matter (delimiters, quotes, line ends, blanks
/// that are whitespace and whitespace that is not blank, letters of one to four bytes), whole and
/// through buffers of a few bytes. The parser reads most fields in one go and falls back to a
/// byte at a time for a field with a quote; both must keep to these rules.
@Suite struct CSVReferenceTests {
    /// The rules of ``CSVRows``, one scalar at a time: `nil` fields for a quote left open.
    static func reference(_ text: String, delimiter: Unicode.Scalar, shapes: Bool) -> [[String]]? {
        var rows: [[String]] = [], fields: [String] = [], field: [Unicode.Scalar] = []
        var quoted = false, wasQuoted = false, allWhitespace = true
        func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator }
        func endField() {
            var kept = field[...]
            if !wasQuoted {
                while let first = kept.first, isBlank(first) { kept = kept.dropFirst() }
                while let last = kept.last, isBlank(last) { kept = kept.dropLast() }
            }
            let text = String(String.UnicodeScalarView(kept))
            fields.append(shapes ? (text.isEmpty ? "" : "-") : text)
            field = []; wasQuoted = false; allWhitespace = true
        }
        func endRow() { endField(); rows.append(fields); fields = [] }
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if quoted {
                // What a quoted field holds counts too: a quote after its closing quote is text.
                if scalar == "\"" {
                    if index < scalars.count, scalars[index] == "\"" { field.append("\""); allWhitespace = false; index += 1 } else { quoted = false }
                } else {
                    field.append(scalar)
                    if !scalar.properties.isWhitespace { allWhitespace = false }
                }
                continue
            }
            switch scalar {
            case "\"" where allWhitespace: field = []; quoted = true; wasQuoted = true
            case delimiter: endField()
            case "\r":
                if index < scalars.count, scalars[index] == "\n" { index += 1 }
                endRow()
            case "\n": endRow()
            case _ where wasQuoted && scalar.properties.isWhitespace: break
            default:
                field.append(scalar)
                if !scalar.properties.isWhitespace { allWhitespace = false }
            }
        }
        if quoted { return nil }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRow() }
        return rows
    }

    static func parsed(_ parser: inout CSVRows.Parser, shapes: Bool) -> [[String]]? {
        var rows: [[String]] = []
        do {
            while let row = try shapes ? parser.nextShape() : parser.next() { rows.append(row.fields) }
        } catch {
            return nil
        }
        return rows
    }

    static let pieces = [",", ",", ";", "\"", "\"", "\"\"", "\r", "\n", "\r\n", " ", " ", "\t", "\u{00A0}", "\u{3000}",
                         "\u{000B}", "\u{0085}", "a", "OB-1", "Hồ sơ", "ắ", "𝄞", "1.5"]

    /// Seeded, so that a failure can be run again: the seed is in every failure's message.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomTextsReadAsTheRulesSay() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SplitMix64(state: seed)
        let folder = NSTemporaryDirectory() + "csv-reference-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for round in 0..<3_000 {
            let text = (0..<Int.random(in: 0...40, using: &generator)).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
            let delimiter: Character = round % 5 == 0 ? ";" : ","
            for shapes in [false, true] {
                let expected = Self.reference(text, delimiter: delimiter.unicodeScalars.first!, shapes: shapes)
                var whole = CSVRows.Parser(text, delimiter: delimiter)
                #expect(Self.parsed(&whole, shapes: shapes) == expected, "seed \(seed): \(text.debugDescription), shapes \(shapes)")
                guard round % 10 == 0 else { continue }
                // Every other file starts with a byte order mark, which the parser is told to skip.
                let start = round % 20 == 0 ? 3 : 0
                let path = folder + "/\(round).csv"
                try Data((start == 3 ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8)).write(to: URL(fileURLWithPath: path))
                let file = try #require(ReadOnlyFile(path: path))
                for size in [1, 2, 3, 5, 8] {
                    var streamed = CSVRows.Parser(file: file, start: start, delimiter: delimiter.asciiValue!, bufferSize: size)
                    #expect(Self.parsed(&streamed, shapes: shapes) == expected,
                            "seed \(seed): \(text.debugDescription), start \(start), buffer \(size), shapes \(shapes)")
                }
            }
        }
    }
}
