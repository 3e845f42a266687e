import CheckKit
import Foundation
import Testing
@testable import NTMStore

/// A CSV file is read through a small buffer, never held whole: what a buffer's edge cuts (a
/// record, a quoted line break, a character, a CR LF, a doubled quote) reads as the whole text
/// does, and a problem far into a file is still found on its line.
@Suite struct StreamedCSVTests {
    /// Quoted line breaks, CR LF, a doubled quote, blanks around cells, two-, three- and four-byte
    /// characters: every edge falls inside one of them at some buffer size.
    static let text = "mã,tên,ghi chú\r\nA1,\"Hồ sơ\r\nnông thôn mới\",\"nói \"\"đạt\"\"\"\n  A2 ,Tiên Lãnh,𝄞 \u{00A0}\r\n\"\",\"\",\"x\"\r\n,,\nA3,\"cut"

    static func rows(_ parser: inout CSVRows.Parser, texts: Bool) -> [String] {
        var rows: [String] = []
        while true {
            do {
                guard let row = try texts ? parser.next() : parser.nextShape() else { return rows + ["end"] }
                rows.append("\(row.row):\(row.fields)")
            } catch {
                return rows + ["\(error)"]
            }
        }
    }

    @Test func everyBufferSizeReadsTheRowsTheWholeTextGives() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("t.csv")
        try Data(Self.text.utf8).write(to: URL(fileURLWithPath: path))
        let file = try #require(ReadOnlyFile(path: path))
        for texts in [true, false] {
            var whole = CSVRows.Parser(Self.text, delimiter: ",")
            let expected = Self.rows(&whole, texts: texts)
            #expect(expected.count == 6)   // five rows, then the quote left open on row 6
            #expect(expected.last == "\(CSVRows.Failure.unterminated(row: 6))")
            for size in 1...Self.text.utf8.count + 1 {
                var streamed = CSVRows.Parser(file: file, start: 0, delimiter: UInt8(ascii: ","), bufferSize: size)
                #expect(Self.rows(&streamed, texts: texts) == expected, "buffer of \(size) bytes, texts \(texts)")
            }
        }
    }

    /// The UTF-8 check reads a buffer at a time too: a character cut by its buffer's edge is
    /// whole, a byte that is not UTF-8 hundreds of thousands of lines in is named by its line.
    @Test func aCharacterAcrossTheCheckBufferIsTextAndABadByteFarInNamesItsLine() async throws {
        let scratch = try await ScratchStore()
        defer { Task { await scratch.remove() } }
        let header = "id,title_vi,title_en,schedule\n"
        var data = Data(header.utf8)
        // "ế" (three bytes) starts one byte before the first buffer's end.
        let padding = TabularFile.bufferSize - 1 - data.count - "X,".utf8.count
        data.append(contentsOf: Array("X,\(String(repeating: "a", count: padding))ế,Report,2024-10-30\n".utf8))
        var line = 2
        while data.count < 3 * TabularFile.bufferSize {
            line += 1
            data.append(contentsOf: Array("OB-\(line),Báo cáo,Report,2024-10-30\n".utf8))
        }
        let good = (scratch.folder as NSString).appendingPathComponent("obligations.csv")
        try data.write(to: URL(fileURLWithPath: good))
        let file = try TabularFile.read(path: good)
        #expect(file.records.count == line - 1)
        #expect(try file.records.all()[0].values[1] == String(repeating: "a", count: padding) + "ế")

        data.append(contentsOf: [0x4F, 0x42, 0x2C, 0x48, 0xF4, 0x20, 0x73, 0xF5, 0x2C, 0x44, 0x2C, 0x32, 0x0A])   // Windows-1258 "Hô sõ"
        data.append(contentsOf: Array("OB-last,Báo cáo,Report,2024-10-30\n".utf8))
        let bad = (scratch.folder as NSString).appendingPathComponent("bad.csv")
        try data.write(to: URL(fileURLWithPath: bad))
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.obligations, path: bad)
        }
        #expect(error?.problems.first?.row == line + 1)
        #expect(error?.message(in: .vi).contains("dòng \(line + 1) không phải văn bản UTF-8") == true)

        // A character cut by the file's end is not text either.
        let cut = (scratch.folder as NSString).appendingPathComponent("cut.csv")
        try (Data(header.utf8) + Data([0x4F, 0x2C, 0xE1, 0xBA])).write(to: URL(fileURLWithPath: cut))
        let cutError = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFile(.obligations, path: cut)
        }
        #expect(cutError?.problems.first?.row == 2)
    }

    /// A checked file is held as its place on disk, not its text (which made a folder of 130 MB
    /// cost 130 MB and more): each pass reads it again, so text put in its place unnoticed (same
    /// size, same modification time) is what the records give.
    @Test func theRecordsAreReadFromTheFileNotFromMemory() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("units.csv")
        try "id,name,level\nQNA,Quảng Nam,province\n".write(toFile: path, atomically: false, encoding: .utf8)
        var status = stat()
        #expect(stat(path, &status) == 0)
        let file = try TabularFile.read(path: path)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seek(toFileOffset: UInt64("id,name,level\nQN".utf8.count))
        handle.write(Data("B".utf8))
        try handle.close()
        var times = [status.st_atim, status.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(try file.records.all().map(\.values) == [["QNB", "Quảng Nam", "province"]])
    }

    /// Between the shape pass and the record pass the file must not change: a record pass over
    /// other text would write rows nobody checked.
    @Test func aFileChangedAfterItsCheckIsRefused() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = (folder as NSString).appendingPathComponent("units.csv")
        try "id,name,level\nQNA,Quảng Nam,province\n".write(toFile: path, atomically: false, encoding: .utf8)
        let file = try TabularFile.read(path: path)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("QNA.TP,Tiên Phước,district\n".utf8))
        try handle.close()
        let error = #expect(throws: ImportError.self) { try file.records.all() }
        #expect(error?.message(in: .vi).contains("tệp đã bị thay đổi trong khi nhập") == true)
    }

    /// Files are read one at a time inside the folder's transaction: a later file that cannot be
    /// read as text still leaves nothing of the earlier ones.
    @Test(arguments: Backend.available)
    func aLaterFileThatIsNotTextImportsNothingOfTheFolder(backend: Backend) async throws {
        let scratch = try await ScratchStore(backend)
        defer { Task { await scratch.remove() } }
        _ = try scratch.write("units.csv", ImportValidationTests.units)
        let surveys = (scratch.folder as NSString).appendingPathComponent("surveys.csv")
        try (Data("id,unit_id,surveyed_on,kind,respondents,satisfied\nS1,QNA.TP.TL,2024-09-01,ntm_results,40,37\n".utf8)
             + Data([0x53, 0x32, 0x2C, 0xC0, 0xAF, 0x0A])).write(to: URL(fileURLWithPath: surveys))
        let error = await #expect(throws: ImportError.self) {
            try await Importer(store: scratch.store).importFolder(scratch.folder)
        }
        #expect(error?.file == surveys)
        #expect(error?.problems.first?.row == 3)
        #expect(try await scratch.count("units") == 0)
    }

    static func folder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }
}
