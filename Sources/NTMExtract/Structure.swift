import Foundation

/// A sentence of the plan with where it stands: its section ("II.1.a"), the paragraph (bullet) it
/// belongs to, and whether it opens that paragraph.
public struct Sentence: Sendable {
    public let text: String
    public let section: String
    public let paragraph: Int
    public let isHeading: Bool
}

/// A numbered heading as the genre writes it: "II.", "1.", "2.1.", "a)", "b1)".
struct Heading {
    enum Kind { case roman, arabic, compound, letter, letterNumber }
    let kind: Kind
    let label: String
    let rest: String
}

/// Reads the document's outline from its lines and cuts it into sentences.
public struct Structure: Sendable {
    public let sentences: [Sentence]
    /// The heading text of each section id ("2.3" → "Các sở, ngành phụ trách ...").
    public let headings: [String: String]

    public init(lines: [String]) {
        var path: [Heading.Kind: String] = [:]
        var lastNumber: [Heading.Kind: Int] = [:]
        var sentences: [Sentence] = []
        var headings: [String: String] = [:]
        var paragraph = 0
        var buffer: [String] = []
        var bufferSection = ""
        var bufferIsHeading = false

        func flush() {
            guard !buffer.isEmpty else { return }
            let text = Normalizer.join(buffer)
            let pieces = Structure.split(text)
            if bufferIsHeading, let first = pieces.first { headings[bufferSection] = first }
            for (index, piece) in pieces.enumerated() {
                sentences.append(Sentence(text: piece, section: bufferSection, paragraph: paragraph,
                                          isHeading: bufferIsHeading && index == 0))
            }
            buffer = []
            paragraph += 1
        }
        func sectionID() -> String {
            let order: [Heading.Kind] = [.roman, .arabic, .compound, .letter, .letterNumber]
            return order.compactMap { path[$0] }.joined(separator: ".")
        }

        for line in lines {
            if let heading = Structure.heading(line), Structure.accept(heading, last: lastNumber, path: path) {
                flush()
                switch heading.kind {
                case .roman:
                    path = [.roman: heading.label]
                    lastNumber = [.roman: Structure.romanValue(heading.label) ?? 0]
                case .arabic:
                    path[.arabic] = heading.label
                    path[.compound] = nil; path[.letter] = nil; path[.letterNumber] = nil
                    lastNumber[.arabic] = Int(heading.label)
                    lastNumber[.compound] = 0; lastNumber[.letter] = 0; lastNumber[.letterNumber] = 0
                case .compound:
                    path[.arabic] = nil
                    path[.compound] = heading.label
                    path[.letter] = nil; path[.letterNumber] = nil
                    lastNumber[.compound] = Int(heading.label.split(separator: ".").last!)
                    lastNumber[.letter] = 0; lastNumber[.letterNumber] = 0
                case .letter:
                    path[.letter] = heading.label
                    path[.letterNumber] = nil
                    lastNumber[.letter] = Int(heading.label.unicodeScalars.first!.value)
                    lastNumber[.letterNumber] = 0
                case .letterNumber:
                    path[.letterNumber] = heading.label
                    lastNumber[.letterNumber] = Int(heading.label.dropFirst()) ?? 0
                }
                bufferSection = sectionID()
                headings[bufferSection] = heading.rest
                bufferIsHeading = true
                buffer = [heading.rest]
            } else if Structure.startsParagraph(line) {
                flush()
                bufferSection = sectionID()
                bufferIsHeading = false
                buffer = [line]
            } else {
                if buffer.isEmpty { bufferSection = sectionID(); bufferIsHeading = false }
                buffer.append(line)
            }
        }
        flush()
        self.sentences = sentences
        self.headings = headings
    }

    /// A bullet ("- ", "+ ", "* ", ". ") or a paragraph the genre opens with a fixed phrase.
    static func startsParagraph(_ line: String) -> Bool {
        line.prefixMatch(of: /[-+*•·]\s*\S|\.\s\p{Lu}|(Giao|Đề nghị|Trên đây|Căn cứ|Nơi nhận)\b/) != nil
    }

    static func heading(_ line: String) -> Heading? {
        if let m = line.prefixMatch(of: /([IVX]{1,4})\.\s+(\S.*)/) {
            return Heading(kind: .roman, label: String(m.1), rest: String(m.2))
        }
        if let m = line.prefixMatch(of: /(\d{1,2}\.\d{1,2})\.?\s+(\S.*)/) {
            return Heading(kind: .compound, label: String(m.1), rest: String(m.2))
        }
        if let m = line.prefixMatch(of: /(\d{1,2})\.\s+(\p{Lu}.*)/) {
            return Heading(kind: .arabic, label: String(m.1), rest: String(m.2))
        }
        if let m = line.prefixMatch(of: /([a-zđ])\)\s+(\S.*)/) {
            return Heading(kind: .letter, label: String(m.1), rest: String(m.2))
        }
        if let m = line.prefixMatch(of: /([a-z]\d{1,2})\)\s+(\S.*)/) {
            return Heading(kind: .letterNumber, label: String(m.1), rest: String(m.2))
        }
        return nil
    }

    /// A heading must continue the numbering (1 after nothing, n+1 after n), so that "13.5." in a list
    /// of criteria or a year at the start of a line is not taken for one.
    static func accept(_ h: Heading, last: [Heading.Kind: Int], path: [Heading.Kind: String]) -> Bool {
        switch h.kind {
        case .roman:
            guard let v = romanValue(h.label) else { return false }
            return v == (last[.roman] ?? 0) + 1
        case .arabic:
            guard let n = Int(h.label) else { return false }
            return n == 1 || n == (last[.arabic] ?? 0) + 1
        case .compound:
            let parts = h.label.split(separator: ".").compactMap { Int($0) }
            let current = Int(path[.compound]?.split(separator: ".").first ?? "") ?? Int(path[.arabic] ?? "")
            guard parts.count == 2, parts[0] == current else { return false }
            return parts[1] == (last[.compound] ?? 0) + 1 || (path[.compound] == nil && parts[1] == 1)
        case .letter:
            let v = Int(h.label.unicodeScalars.first!.value)
            return v == 97 || v == (last[.letter] ?? 0) + 1
        case .letterNumber:
            guard path[.letter] == String(h.label.prefix(1)), let n = Int(h.label.dropFirst()) else { return false }
            return n == (last[.letterNumber] ?? 0) + 1
        }
    }

    static func romanValue(_ s: Substring) -> Int? { romanValue(String(s)) }
    static func romanValue(_ s: String) -> Int? {
        ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"].firstIndex(of: s).map { $0 + 1 }
    }

    /// Sentences end at ". " before a capital letter (not after a number like "Điều 2."), at "./."
    /// and at a bullet inside the paragraph.
    static func split(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            current.append(c)
            if c == "." || c == "!" || c == "?" {
                var j = i + 1
                while j < chars.count, chars[j] == "/" || chars[j] == "." { current.append(chars[j]); j += 1 }
                if j < chars.count, chars[j] == " " {
                    var k = j
                    while k < chars.count, chars[k] == " " { k += 1 }
                    if k < chars.count, chars[k].isUppercase || chars[k] == "-" || chars[k] == "+" {
                        pieces.append(current.trimmingCharacters(in: .whitespaces))
                        current = ""
                        i = k
                        continue
                    }
                }
                i = j
                continue
            }
            i += 1
        }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { pieces.append(last) }
        return pieces
    }
}
