/// Text bound for a spreadsheet (CSV, TSV, workbook cells) that a spreadsheet would otherwise run
/// as a formula: a cell beginning with `=`, `+`, `-` or `@` (and tab or carriage return, which
/// some spreadsheets skip before looking) is a formula to Excel and LibreOffice, so a name typed
/// as `=HYPERLINK(...)` into the store would run on the reader's machine ("CSV injection").
///
/// The store keeps text as written; this is applied only when writing a **text** cell of a
/// spreadsheet-bound file. Never to numbers (`-5` is a number, written as a number cell), never to
/// JSON, journald or webhook output, whose readers do not evaluate formulas.
public enum SpreadsheetText {
    static let triggers: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    /// `text` as a spreadsheet shows it but does not evaluate: a leading apostrophe, which
    /// spreadsheets treat as "this is text" and do not display.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.first, triggers.contains(first) else { return text }
        return "'" + text
    }
}
