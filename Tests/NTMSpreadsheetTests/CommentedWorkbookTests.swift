import Foundation
@testable import NTMSpreadsheet
import Testing

/// `--errors` on a workbook whose sheets already have comments (issue 20): ours are merged into the
/// user's comments and drawings, theirs stay. Proven with openpyxl, and with LibreOffice, which
/// opens the result and saves it again with every comment, which openpyxl then reads.
@Suite(.serialized) struct CommentedWorkbookTests {
    static let fixtures = ThirdPartyTests.fixtures

    func run(_ arguments: [String], in folder: URL) throws -> (status: Int32, output: String) {
        try ThirdPartyTests().run(arguments, in: folder)
    }

    /// Sheet → cell → comment text, as openpyxl reads them.
    func comments(_ paths: [String], in folder: URL) throws -> [String: [String: [String: String]]] {
        let inspected = try run(["/usr/bin/python3", Self.fixtures.appendingPathComponent("openpyxl_view.py").path] + paths, in: folder)
        try #require(inspected.status == 0, "openpyxl could not open the workbooks (is python3-openpyxl installed? scripts/test.sh installs it)")
        let books = try #require(try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) as? [String: [String: Any]])
        return books.mapValues { book in
            ((book["content"] as? [String: [String: Any]]) ?? [:]).mapValues { sheet in
                ((sheet["cells"] as? [String: [String: Any]]) ?? [:]).compactMapValues { $0["comment"] as? String }
            }
        }
    }

    static let notes = [
        CellNote(sheet: "Khảo sát", column: 5, row: 5, text: "số người hài lòng lớn hơn số người được hỏi"),
        CellNote(sheet: "Khảo sát", column: 4, row: 4, text: "cần số nguyên từ 1 đến 100000"),
        CellNote(sheet: "Đơn vị", column: 2, row: 4, text: "cần một trong: province, district, commune, village"),
    ]

    func expectMerged(_ book: [String: [String: String]]?, _ name: String) {
        let surveys = book?["Khảo sát"] ?? [:], units = book?["Đơn vị"] ?? [:]
        // The user's comments, kept.
        #expect(surveys["A1"]?.contains("Số liệu do xã gửi, chưa thẩm định") == true, "\(name) A1")
        #expect(units["B3"]?.contains("Tên cũ: huyện Đại Lộc (trước 2025)") == true, "\(name) B3")
        // A cell the user commented gets ours after theirs.
        let both = surveys["F5"] ?? ""
        #expect(both.contains("Xã báo cáo lại ngày 02/10/2024") && both.contains("số người hài lòng lớn hơn số người được hỏi"), "\(name) F5: \(both)")
        #expect(surveys["E4"]?.contains("cần số nguyên từ 1 đến 100000") == true, "\(name) E4")
        #expect(units["C4"]?.contains("cần một trong: province, district, commune, village") == true, "\(name) C4")
        #expect(surveys.count == 3 && units.count == 2, "\(name): \(surveys.keys.sorted()) \(units.keys.sorted())")
    }

    @Test func ourCommentsAreMergedIntoTheUsersCommentsAndDrawings() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("commented-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var written: [String] = []
        for fixture in ["openpyxl-commented", "libreoffice-commented"] {
            let output = folder.appendingPathComponent("loi-\(fixture).xlsx").path
            try ErrorWorkbook.write(source: Self.fixtures.appendingPathComponent("\(fixture).xlsx").path, notes: Self.notes, to: output)
            written.append(output)
            // Every part of the user's workbook is still there.
            let before = Set(try WorkbookReader(path: Self.fixtures.appendingPathComponent("\(fixture).xlsx").path).archive.map(\.path))
            let after = Set(try WorkbookReader(path: output).archive.map(\.path))
            #expect(before.isSubset(of: after), "\(fixture): lost \(before.subtracting(after).sorted())")
        }
        let read = try comments(written, in: folder)
        for path in written { expectMerged(read[path], (path as NSString).lastPathComponent) }

        // LibreOffice opens both and saves them again; what it saved has every comment.
        let profile = folder.appendingPathComponent("profile").path
        let saved = folder.appendingPathComponent("saved")
        let converted = try run(["/usr/bin/soffice", "-env:UserInstallation=file://\(profile)", "--headless", "--convert-to",
                                 "xlsx:Calc MS Excel 2007 XML", "--outdir", saved.path] + written, in: folder)
        try #require(converted.status == 0, "LibreOffice could not open the workbooks (is libreoffice-calc-nogui installed?)")
        let resaved = written.map { saved.appendingPathComponent(($0 as NSString).lastPathComponent).path }
        let reread = try comments(resaved, in: folder)
        for path in resaved { expectMerged(reread[path], "LibreOffice " + (path as NSString).lastPathComponent) }
    }
}
