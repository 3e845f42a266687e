import CheckKit
import Foundation

/// One proposed duty: who, to whom, when, for which units, where in the plan, on which words.
public struct Duty: Sendable, Equatable {
    public var responsible: String
    public var responsibleKeys: [String]
    public var submitsTo: String
    public var deadline: Deadline
    public var appliesTo: String
    /// `selector` (the units issue's syntax), `names` (units named in the plan), `words` (a class
    /// the selector cannot express), or empty.
    public var appliesToKind: String
    public var section: String
    public var quote: String

    public init(responsible: String, responsibleKeys: [String], submitsTo: String, deadline: Deadline,
                appliesTo: String, appliesToKind: String, section: String, quote: String) {
        self.responsible = responsible; self.responsibleKeys = responsibleKeys; self.submitsTo = submitsTo
        self.deadline = deadline; self.appliesTo = appliesTo; self.appliesToKind = appliesToKind
        self.section = section; self.quote = quote
    }

    public var responsibleKey: String { responsibleKeys.isEmpty ? "unspecified" : responsibleKeys.joined(separator: ";") }
}

/// A dated target ("phấn đấu đến năm 2030 ..."): proposed for the targets import, never a duty.
public struct TargetProposal: Sendable, Equatable {
    public var by: CivilDate
    public var value: Double?
    public var unit: String
    public var section: String
    public var quote: String
}

public struct Extraction: Sendable {
    public var documentDate: CivilDate?
    public var duties: [Duty]
    public var targets: [TargetProposal]
}

/// Reads a plan's text and proposes its dated duties. Every decision is one of the readable rules
/// below; nothing is learned and nothing leaves the machine.
public enum Extractor {
    public static func extract(_ raw: String) -> Extraction {
        let lines = Normalizer.lines(raw)
        let documentDate = Self.documentDate(lines)
        let structure = Structure(lines: lines)
        let trailing = trailingResponsibles(structure)
        var duties: [Duty] = []
        var targets: [TargetProposal] = []

        for sentence in structure.sentences {
            let text = sentence.text
            let masked = mask(text)
            let chars = Array(masked)
            let expressions = TimeGrammar.expressions(in: masked, reference: documentDate)
            // "... hoàn thành trong thời hạn nêu trên": the deadline of the duty just before, for this sentence's actor.
            if expressions.isEmpty, let back = masked.firstMatch(of: /(?:trong|theo|đúng)\s+thời hạn (?:nêu|đã nêu|quy định)\s+(?:trên|tại mục này)/),
               let previous = duties.last, previous.section == sentence.section {
                let offset = masked.distance(from: masked.startIndex, to: back.range.lowerBound)
                let length = masked.distance(from: back.range.lowerBound, to: back.range.upperBound)
                let reference = TimeExpression(range: offset..<(offset + length), words: String(back.0),
                                               deadline: previous.deadline, yearOnly: false, targetHorizon: false)
                let (keys, words) = responsible(sentence: masked, clauseStart: 0, expression: reference,
                                                section: sentence.section, structure: structure, trailing: trailing)
                duties.append(Duty(responsible: words, responsibleKeys: keys, submitsTo: "", deadline: previous.deadline,
                                   appliesTo: "", appliesToKind: "", section: sentence.section,
                                   quote: String(text.prefix(offset + length))))
            }
            for (index, expression) in expressions.enumerated() {
                let clauseStart = Self.clauseStart(chars, before: expression.range.lowerBound)
                let clause = String(chars[clauseStart..<expression.range.lowerBound])
                let clauseEnd = Self.clauseEnd(chars, after: expression.range.upperBound)
                let after = String(chars[expression.range.upperBound..<clauseEnd])
                let sentenceBefore = String(chars[0..<expression.range.lowerBound])
                var quote = String(Array(text)[clauseStart..<expression.range.upperBound]).trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "-+;,(")))
                if clauseStart > 0, expression.range.lowerBound - clauseStart < 40 {
                    // A short clause ("hoàn thành trong tháng 9/2022") quotes the sentence's opening words too.
                    var opening = String(Array(text)[0..<min(clauseStart, 120)])
                    if clauseStart > 120, let space = opening.lastIndex(of: " ") { opening = String(opening[..<space]) }
                    opening = opening.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "-+;,(")))
                    quote = opening + " … " + quote
                }

                // Not duties: what is already past, what is only encouraged, events of others, purposes.
                if let documentDate, expression.deadline.lastDay < documentDate { continue }
                if sentenceBefore.range(of: "khuyến khích", options: .caseInsensitive) != nil { continue }
                if clause.firstMatch(of: /khi\s+(?:Quốc hội|Trung ương|Chính phủ|Thủ tướng)/) != nil { continue }
                if index > 0 {
                    let between = String(chars[expressions[index - 1].range.upperBound..<expression.range.lowerBound])
                    // "trình UBND tỉnh trước ngày 15/9 để ... trong tháng 10": the second date is the
                    // purpose's, someone else's step; "... và chuẩn bị ... để ..." is a new duty.
                    if let purpose = between.firstMatch(of: /(?:^|\s)để\s/),
                       between.firstMatch(of: /[;()]/) == nil,
                       between[..<purpose.range.lowerBound].firstMatch(of: /\svà\s/) == nil { continue }
                }
                if clause.firstMatch(of: /(?i)phấn đấu\s+(?:hoàn thành\s+)?mục tiêu/) != nil { continue }

                let striving = (clause + after).range(of: "phấn đấu", options: .caseInsensitive) != nil
                let outcome = after.firstMatch(of: /^\s*(?:,\s*)?(?:có|đạt)\s+(?:thêm\s+)?(?:ít nhất\s+|tối thiểu\s+)?\d/) != nil
                let inTargetsSection = ancestors(sentence.section).contains { id in
                    (structure.headings[id] ?? "").lowercased().hasPrefix("mục tiêu")
                }
                if expression.targetHorizon || (expression.yearOnly && (striving || outcome || inTargetsSection)) {
                    targets.append(TargetProposal(by: expression.deadline.due, value: firstNumber(after + " " + clause),
                                                  unit: (after + clause).contains("%") ? "%" : "",
                                                  section: sentence.section, quote: quote + after))
                    continue
                }
                if expression.yearOnly, clause.firstMatch(of: /(?i)tiếp tục|duy trì/) != nil { continue }

                let (keys, words) = responsible(sentence: masked, clauseStart: clauseStart, expression: expression,
                                                section: sentence.section, structure: structure, trailing: trailing)
                let documentLevel = masked.firstMatch(of: /kết quả thực hiện\s+(?:Thông báo|Kế hoạch|Kết luận)(?!\s+số)/) != nil
                let (applies, kind) = appliesTo(clause: clause, after: after)
                duties.append(Duty(responsible: words, responsibleKeys: keys, submitsTo: submitsTo(clause),
                                   deadline: expression.deadline, appliesTo: applies, appliesToKind: kind,
                                   section: documentLevel ? "" : sentence.section, quote: quote))
            }
        }
        return Extraction(documentDate: documentDate, duties: duties, targets: targets)
    }

    // MARK: - The document's date

    /// "Quảng Nam, ngày 15 tháng 3 năm 2025" in the header (a blank day reads as the 1st); otherwise
    /// the date of the meeting the notice reports ("Ngày 13/3/2023, ...").
    static func documentDate(_ lines: [String]) -> CivilDate? {
        for line in lines.prefix(12) {
            if let m = line.firstMatch(of: /,\s*ngày\s+(\d{0,2})\s*tháng\s+(\d{1,2})\s+năm\s+(\d{4})/) {
                return CivilDate(year: Int(m.3)!, month: Int(m.2)!, day: Int(m.1) ?? 1)
            }
        }
        for line in lines.prefix(40) {
            if let m = line.prefixMatch(of: /Ngày\s+(\d{1,2})\/(\d{1,2})\/(\d{4}),/) {
                return CivilDate(year: Int(m.3)!, month: Int(m.2)!, day: Int(m.1)!)
            }
        }
        return nil
    }

    // MARK: - Masks

    /// Legal references ("Quyết định số 3004/QĐ-UBND ngày 25/8/2021 của UBND tỉnh") and topic labels
    /// ("- Về cơ cấu tổ chức ...:") are replaced by placeholders of the same length, so their dates and
    /// actors are never read as a duty's.
    static func mask(_ text: String) -> String {
        var out = text
        let legal = try! Regex(#"(?:Quyết định|Nghị quyết|Nghị định|Công văn|Kế hoạch|Chỉ thị|Thông tư|Kết luận|Thông báo|Chương trình|Luật)\s+(?:số\s+)?[\p{L}\d]{0,}\d[\p{L}\d\/\-\.]{0,}(?:\s+ngày\s+\d{1,2}\/\d{1,2}\/\d{4})?(?:\s+của\s+(?:UBND|Ủy ban nhân dân|HĐND|Thủ tướng|Chính phủ|Quốc hội|Tỉnh ủy|Bộ)(?:\s+(?:tỉnh|Chính phủ|[\p{Lu}][\p{L}]*))*)?"#)
        for m in text.matches(of: legal).reversed() {
            out.replaceSubrange(m.range, with: String(repeating: "§", count: text.distance(from: m.range.lowerBound, to: m.range.upperBound)))
        }
        if let m = out.prefixMatch(of: /[-+]?\s*Về\s[^:]{0,200}:/) {
            out.replaceSubrange(m.range, with: String(repeating: "§", count: out.distance(from: m.range.lowerBound, to: m.range.upperBound)))
        }
        return out
    }

    // MARK: - Clauses

    static let boundaries: Set<Character> = [";", "(", ")"]

    static func clauseStart(_ chars: [Character], before offset: Int) -> Int {
        var i = offset - 1
        while i >= 0 { if boundaries.contains(chars[i]) { return i + 1 }; i -= 1 }
        return 0
    }

    static func clauseEnd(_ chars: [Character], after offset: Int) -> Int {
        var i = offset
        while i < chars.count { if boundaries.contains(chars[i]) { return i }; i += 1 }
        return chars.count
    }

    // MARK: - Who

    /// Words that open an action: an actor right before one of them is the one who acts.
    nonisolated(unsafe) static let verb = try! Regex(#"^\s*(?:chủ trì|trình|báo cáo|hoàn thành|hoàn thiện|thông báo|ban hành|rà soát|tổ chức|gửi|xây dựng|tham mưu|thực hiện|khẩn trương|tập trung|phê duyệt|công nhận|lập|thẩm tra|tổng hợp|hướng dẫn|chỉ đạo|giải ngân|xử lý|có trách nhiệm)"#).ignoresCase()

    /// Who must act, in order: an actor opening the clause; one named by "Giao"/"Đề nghị"; one right
    /// before an action verb; the sentence's first clause; the section's heading (or a parent's);
    /// the section's closing "X tổ chức thực hiện."; otherwise unspecified.
    static func responsible(sentence: String, clauseStart: Int, expression: TimeExpression, section: String,
                            structure: Structure, trailing: [String: ([String], String)]) -> ([String], String) {
        let chars = Array(sentence)
        let clause = String(chars[clauseStart..<expression.range.lowerBound])
        if let found = subject(of: clause, first: clauseStart == 0) { return found }
        let before = String(chars[0..<expression.range.lowerBound])
        if let found = named(in: before) { return found }
        if let found = actorBeforeVerb(in: clause) { return found }
        if clauseStart > 0 {
            let firstEnd = clauseEnd(chars, after: 0)
            let first = String(chars[0..<firstEnd])
            if let found = subject(of: first, first: true) ?? actorBeforeVerb(in: first) { return found }
        }
        for id in ancestors(section) {
            if let heading = structure.headings[id], let found = headingActor(heading) { return found }
        }
        for id in ancestors(section) { if let found = trailing[id] { return found } }
        return ([], "")
    }

    static func subject(of clause: String, first: Bool) -> ([String], String)? {
        var text = Substring(clause)
        if let prefix = text.prefixMatch(of: /[\s\-+\*•§]{0,}(?:(?:Đồng thời|Riêng|Trong đó),?\s+)?(?:(?:Đề nghị|Giao|Yêu cầu|Đối với)\s+)?/) {
            text = text[prefix.range.upperBound...]
        }
        guard let run = Actors.run(at: text) else { return nil }
        if !first, text[run.end...].prefixMatch(of: verb) == nil { return nil }
        return (run.keys, run.words)
    }

    static func named(in text: String) -> ([String], String)? {
        var found: ([String], String)?
        for m in text.matches(of: /(?:Giao|giao|Đề nghị|Yêu cầu)\s+/) {
            if let run = Actors.run(at: text[m.range.upperBound...]) { found = (run.keys, run.words) }
        }
        return found
    }

    static func actorBeforeVerb(in clause: String) -> ([String], String)? {
        let chars = Array(clause)
        var found: ([String], String)?
        for run in Actors.runs(in: clause) {
            let rest = String(chars[run.endOffset...])
            let preceding = String(chars[max(0, run.offset - 8)..<run.offset])
            let isObject = preceding.firstMatch(of: /(?:với|của|dẫn|cho|đạo|đốc|trợ)\s*$/) != nil
            if rest.prefixMatch(of: verb) != nil, !isObject { found = (run.keys, run.words) }
        }
        return found
    }

    static func headingActor(_ heading: String) -> ([String], String)? {
        var text = Substring(heading)
        if let colon = heading.firstIndex(of: ":"), heading.distance(from: heading.startIndex, to: colon) < 40,
           Actors.run(at: text) == nil {
            text = text[heading.index(after: colon)...]
        }
        text = text.drop(while: { $0 == " " })
        if let prefix = text.prefixMatch(of: /(?:Đối với|Đề nghị)\s+/) { text = text[prefix.range.upperBound...] }
        guard let run = Actors.run(at: text) else { return nil }
        return (run.keys, run.words)
    }

    /// "Sở Xây dựng, ..., UBND cấp huyện, xã và các Sở, ngành liên quan triển khai thực hiện." closing
    /// a section of the plan names who carries out every subject-less duty in it.
    static func trailingResponsibles(_ structure: Structure) -> [String: ([String], String)] {
        var result: [String: ([String], String)] = [:]
        for sentence in structure.sentences {
            var text = Substring(sentence.text)
            if let p = text.prefixMatch(of: /Đề nghị\s+/) { text = text[p.range.upperBound...] }
            guard let run = Actors.run(at: text),
                  text[run.end...].wholeMatch(of: /[\p{L}\s,]{0,40}?(?:tổ chức|triển khai)\s+thực hiện\.?\s{0,}/) != nil else { continue }
            result[topSection(sentence.section)] = (run.keys, run.words)
        }
        return result
    }

    /// "IV.7.a" → "IV.7": the level a closing responsibility sentence speaks for.
    static func topSection(_ id: String) -> String {
        let parts = id.split(separator: ".")
        let roman = parts.first.map { Structure.romanValue(String($0)) != nil } ?? false
        return parts.prefix(roman ? 2 : 1).joined(separator: ".")
    }

    /// "II.1.a", "II.1", "II" (and "2.3" → "2.3", "2").
    static func ancestors(_ id: String) -> [String] {
        guard !id.isEmpty else { return [] }
        var parts = id.split(separator: ".").map(String.init)
        var result: [String] = []
        while !parts.isEmpty { result.append(parts.joined(separator: ".")); parts.removeLast() }
        return result
    }

    // MARK: - To whom, for which units

    static func submitsTo(_ clause: String) -> String {
        var found = ""
        for m in clause.matches(of: /(?:trình|gửi về|gửi|báo cáo|về)\s+/) {
            if let run = Actors.run(at: clause[m.range.upperBound...]) { found = run.words }
        }
        return found
    }

    static func appliesTo(clause: String, after: String) -> (String, String) {
        if let m = after.firstMatch(of: /đối với\s+(?:các\s+)?xã\s+(đồng bằng|miền núi|trung du)/) {
            let region = ["đồng bằng": "plains", "miền núi": "mountain", "trung du": "midland"][String(m.1)]!
            return ("level=commune;region=\(region)", "selector")
        }
        if let m = clause.firstMatch(of: /xã đã đạt chuẩn\s+(?:NTM|nông thôn mới)(\s+nâng cao|\s+kiểu mẫu)?\s+từ năm\s+(\d{4})\s+trở về trước/) {
            let tier = m.1.map { $0.contains("nâng cao") ? "nang_cao" : "kieu_mau" } ?? "ntm"
            return ("level=commune;tier=\(tier);recognized_by=\(m.2)-12-31", "selector")
        }
        if let m = after.firstMatch(of: /^\s*\((nếu[^)]*)\)/) { return (String(m.1), "words") }
        return ("", "")
    }

    /// The target's figure: the first number that is not a year ("giai đoạn 2021-2025") or part of a date.
    static func firstNumber(_ text: String) -> Double? {
        for m in text.matches(of: /(^|[^\d\/\-])(\d+(?:,\d+)?)(?![\d\/\-])/) where !(1990...2100).contains(Int(m.2) ?? 0) {
            return Double(m.2.replacingOccurrences(of: ",", with: "."))
        }
        return nil
    }
}
