import CheckKit
import Foundation

/// The proposal as the obligations import reads it, plus the evidence columns a reviewer checks.
public enum ProposalCSV {
    public static let columns = ["id", "title_vi", "title_en", "responsible", "responsible_key", "submits_to", "schedule",
                                 "due", "semantics", "recurrence", "last_day", "applies_to", "applies_to_kind", "document", "section", "quote"]

    public static func duties(_ duties: [Duty], document: String) -> String {
        var out = [columns.joined(separator: ",")]
        for (index, duty) in duties.enumerated() {
            let d = duty.deadline
            out.append(row([
                "\(document)-\(index + 1)", duty.quote, englishTitle(duty), duty.responsible, duty.responsibleKey, duty.submitsTo,
                schedule(d), d.due.description, d.semantics.rawValue, d.recurrence, d.lastDay.description,
                duty.appliesTo, duty.appliesToKind, document, duty.section, duty.quote,
            ]))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// A plain English line for `title_en` (the import requires one), for the reviewer to improve.
    static func englishTitle(_ duty: Duty) -> String {
        let d = duty.deadline
        let repeats = d.recurrence == "once" ? "" : ", repeating \(d.recurrence)"
        return "Duty of \(duty.responsibleKey) from section \(duty.section.isEmpty ? "-" : duty.section): \(d.semantics.rawValue) \(d.due)\(repeats)"
    }

    /// The store's schedule text for a deadline: the due date, or `monthly:DD`, `quarterly:...`, `yearly:MM-DD`.
    public static func schedule(_ d: Deadline) -> String {
        if d.recurrence == "once" { return d.due.description }
        if d.recurrence.hasPrefix("monthly:") { return "monthly:\(Int(d.recurrence.dropFirst(8)) ?? 0)" }
        return d.recurrence
    }

    public static let targetColumns = ["id", "indicator", "title_vi", "title_en", "target", "unit", "by_date", "source"]

    /// Targets in the targets import format; `indicator` and `title_en` are left for the reviewer.
    public static func targets(_ targets: [TargetProposal], document: String) -> String {
        var out = [targetColumns.joined(separator: ",")]
        for (index, t) in targets.enumerated() {
            out.append(row(["\(document)-t\(index + 1)", "", t.quote, "", t.value.map { String($0) } ?? "", t.unit,
                            t.by.description, "\(document) \(t.section)"]))
        }
        return out.joined(separator: "\n") + "\n"
    }

    public static func row(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }

    /// RFC 4180 rows (quoted fields, doubled quotes).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else if c != "\r" { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
