import Foundation
import NTMExtract
import Testing

/// The same plan as text, as Word and as PDF (made by scripts/make-plan-fixtures.sh) gives the same duties.
@Suite struct DocumentReaderTests {
    static let plans = GoldListTests.plans

    func keys(_ path: String) throws -> [String] {
        try Extractor.extract(DocumentReader.text(of: path)).duties.map {
            "\($0.section) \($0.responsibleKey) \($0.deadline.lastDay) \($0.deadline.recurrence)"
        }
    }

    @Test func wordAndPDFGiveTheDutiesOfTheText() throws {
        let text = try keys("\(Self.plans)/004_ed3c0ee86e96e319.txt")
        #expect(text.count == 4)
        #expect(try keys("\(Self.plans)/formats/004_ed3c0ee86e96e319.docx") == text)
        #expect(try keys("\(Self.plans)/formats/004_ed3c0ee86e96e319.pdf") == text)
    }

    @Test func unreadableInputsAreNamedWithWhatToDo() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ntm-extract-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let latin1 = folder.appendingPathComponent("plan.txt").path
        try Data([0x48, 0xE0, 0xFF, 0xFE, 0x20]).write(to: URL(fileURLWithPath: latin1))
        #expect(throws: DocumentReader.Failure.self) { try DocumentReader.text(of: latin1) }
        let fakeDocx = folder.appendingPathComponent("plan.docx").path
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: fakeDocx))
        do { _ = try DocumentReader.text(of: fakeDocx); Issue.record("a non-zip .docx was read") } catch {
            #expect("\(error)".contains("plan.docx"))
        }
    }
}
