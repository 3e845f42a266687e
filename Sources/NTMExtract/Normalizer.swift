import Foundation

/// Turns text extracted from a PDF or typed by hand into one canonical form the grammar reads:
/// NFC, one tone placement, no page numbers or footnote bodies, syllables and dates rejoined.
public enum Normalizer {
    /// The lines of a document, cleaned; blank lines and page numbers dropped, footnotes removed.
    /// A line keeps whether it began a new page (its first character was a space in pdftotext's
    /// output), because a footnote body ends there.
    public static func lines(_ raw: String) -> [String] {
        let text = canonicalTones(raw.precomposedStringWithCanonicalMapping)
            .replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\u{00A0}", with: " ")
        var result: [String] = []
        var inFootnote = false
        for rawLine in text.components(separatedBy: "\n") {
            let startsPage = rawLine.first == " " || rawLine.first == "\u{0C}"
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\u{0C}")))
            if line.isEmpty { inFootnote = false; continue }
            if inFootnote && !startsPage { continue }
            inFootnote = false
            if line.allSatisfy(\.isNumber) { continue }                 // a page number
            if line.wholeMatch(of: footnoteBody) != nil { inFootnote = true; continue }
            result.append(rejoinSyllables(line))
        }
        return result
    }

    /// Joins the lines of one paragraph and repairs what a line break cut: `2021-\n2025`, `30/6/\n2024`.
    public static func join(_ lines: [String]) -> String {
        var text = lines.joined(separator: " ")
        text.replace(/(\d)\s*([\/\-])\s+(\d)/) { "\($0.1)\($0.2)\($0.3)" }
        text.replace(/(\p{L})\(\d{1,2}\)/) { String($0.1) }                // footnote marker "xã(1)"
        text.replace(/\s{2,}/) { _ in " " }
        return text
    }

    /// "(1) Không tính xã ..." at the start of a line: a footnote's body in the flow of the page.
    nonisolated(unsafe) private static let footnoteBody = /\(\d{1,2}\)\s+\p{Lu}.{0,}/

    /// "Tam Ph ước", "Duy S ơn", "Đ ại": a syllable's initial consonants split from its rhyme.
    /// A Vietnamese word never is consonants alone; all-capital abbreviations (UBND, NTM) are kept.
    static func rejoinSyllables(_ line: String) -> String {
        var out = line
        out.replace(/(^|\s)(\p{Lu}?[bcdđghklmnpqrstvx]{0,2}|Đ|[BCDGHKLMNPQRSTVX])\s([aăâeêioôơuưyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]\p{Ll}*)/) { match in
            let onset = String(match.2)
            guard !onset.isEmpty, onset.count <= 3, onset.lowercased().allSatisfy({ "bcdđghklmnpqrstvx".contains($0) }) else {
                return String(match.0)
            }
            return "\(match.1)\(onset)\(match.3)"
        }
        return out
    }

    /// Old tone placement ("hoà", "uỷ", "khoẻ") becomes the new one ("hòa", "ủy", "khỏe"), so both
    /// spellings of a name read alike.
    public static func canonicalTones(_ text: String) -> String {
        var out = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if i + 1 < chars.count, let (plain, tone) = toned[chars[i + 1]],
               let pair = glides[c], pair.contains(plain),
               i + 2 >= chars.count || !chars[i + 2].isLetter,
               i == 0 || !isGlideOnsetBlocker(chars[i - 1]),
               let movedGlide = apply(tone: tone, to: c) {
                out.append(movedGlide)
                out.append(plain)
                i += 2
                continue
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// After "q" the "u" is part of the onset ("quý"), so the tone stays where it is.
    private static func isGlideOnsetBlocker(_ c: Character) -> Bool { c == "q" || c == "Q" }

    private static let glides: [Character: Set<Character>] = [
        "o": ["a", "e"], "O": ["a", "e", "A", "E"], "u": ["y"], "U": ["y", "Y"],
    ]
    private static let toneMarks: [Character: [Character]] = [
        "a": ["à", "á", "ả", "ã", "ạ"], "e": ["è", "é", "ẻ", "ẽ", "ẹ"], "y": ["ỳ", "ý", "ỷ", "ỹ", "ỵ"],
        "A": ["À", "Á", "Ả", "Ã", "Ạ"], "E": ["È", "É", "Ẻ", "Ẽ", "Ẹ"], "Y": ["Ỳ", "Ý", "Ỷ", "Ỹ", "Ỵ"],
        "o": ["ò", "ó", "ỏ", "õ", "ọ"], "u": ["ù", "ú", "ủ", "ũ", "ụ"],
        "O": ["Ò", "Ó", "Ỏ", "Õ", "Ọ"], "U": ["Ù", "Ú", "Ủ", "Ũ", "Ụ"],
    ]
    private static let toned: [Character: (Character, Int)] = {
        var map: [Character: (Character, Int)] = [:]
        for base in ["a", "e", "y", "A", "E", "Y"] as [Character] {
            for (tone, mark) in toneMarks[base]!.enumerated() { map[mark] = (base, tone) }
        }
        return map
    }()
    private static func apply(tone: Int, to c: Character) -> Character? { toneMarks[c]?[tone] }
}
