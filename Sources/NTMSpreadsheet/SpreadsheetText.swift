/// Text bound for a spreadsheet (a CSV cell, a workbook's text cell) that a spreadsheet program
/// would otherwise run as a formula: `=`, `+`, `-`, `@` (and tab or carriage return, which some
/// programs strip before looking) get a leading apostrophe, which Excel and LibreOffice show as
/// text. Numbers are never passed here: a negative amount stays a number.
public enum SpreadsheetText {
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    public static func neutralised(_ text: String) -> String {
        guard let first = text.first, formulaStarts.contains(first) else { return text }
        return "'" + text
    }
}
