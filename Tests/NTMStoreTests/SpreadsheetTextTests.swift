import Testing
@testable import NTMStore

/// The formula-neutralising helper for spreadsheet-bound text cells.
@Suite struct SpreadsheetTextTests {
    @Test(arguments: ["=HYPERLINK(\"http://x\",\"Đại Chánh\")", "+84 235 3852 123", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
    func textAFormulaWouldStartWithGetsAnApostrophe(_ text: String) {
        #expect(SpreadsheetText.neutralised(text) == "'" + text)
    }

    @Test(arguments: ["Đại Chánh", "", "'=already text", "Quế An = xã", "12", "a-b", " =1"])
    func otherTextIsLeftAsWritten(_ text: String) {
        #expect(SpreadsheetText.neutralised(text) == text)
    }
}
