import CheckKit
import Foundation
import NTMSpreadsheet
import NTMStore
import Testing
@testable import NTMAlerting
@testable import NTMWorkbooks

/// Every kind of workbook the project writes, opened by readers nobody here wrote: openpyxl
/// (Debian's python3-openpyxl under /usr/bin/python3) and LibreOffice (one batch conversion to CSV
/// of every sheet of every file, with its own profile). `scripts/test.sh` installs both.
@Suite(.serialized) struct ThirdPartyTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/xlsx")

    static func alert(_ rule: String, _ severity: Severity, subject: String, district: String?, amount: Int64?,
                      summary: String, since: String) -> Alert {
        var labels = ["check": String(rule.split(separator: ".")[0]), "rule": rule, "subject_id": subject, "province": "Quảng Nam"]
        labels["district"] = district
        return Alert(fingerprint: Fingerprint.of(labels), scope: labels["check"]!, check: labels["check"]!, ruleID: rule,
                     messageID: "0", labels: labels, subject: Subject(kind: "unit", id: subject, name: subject, unitID: subject),
                     severity: severity, status: .firing, activeSince: ISO8601DateFormatter().date(from: since)!,
                     firingSince: ISO8601DateFormatter().date(from: since)!, resolvedAt: nil, lastNotifiedAt: nil,
                     lastNotifiedSeverity: nil, values: amount.map { ["outstanding": .amountVND($0)] } ?? [:],
                     message: .rendered(LocalizedText(vi: summary, en: summary)))
    }

    static let alerts = [
        alert("debt.outstanding", .critical, subject: "Đại Chánh", district: "Đại Lộc", amount: 1_250_000_000,
              summary: "=xã Đại Chánh còn nợ đọng XDCB", since: "2024-07-01T01:00:00Z"),
        alert("satisfaction.low", .warning, subject: "Tiên Lãnh", district: "Tiên Phước", amount: nil,
              summary: "Tỷ lệ hài lòng 82,5% dưới ngưỡng 90%", since: "2024-09-30T18:30:00Z"),
        alert("targets.behind", .error, subject: "Quảng Nam", district: nil, amount: nil,
              summary: "Chỉ tiêu xã NTM nâng cao chậm tiến độ", since: "2024-12-31T16:59:00Z"),
    ]

    func run(_ arguments: [String], in folder: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func openpyxlAndLibreOfficeReadWhatWeWrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("third-party-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let template = folder.appendingPathComponent("mau.xlsx").path
        let report = folder.appendingPathComponent("baocao.xlsx").path
        let errors = folder.appendingPathComponent("loi.xlsx").path
        try ImportTemplate.write(ImportKind.dependencyOrder, to: template)
        // 2024-12-31T16:59Z is 31/12/2024 23:59 in Vietnam: the report's dates are Vietnam's civil dates.
        let alertReport = AlertReport(alerts: Self.alerts, at: ISO8601DateFormatter().date(from: "2025-01-02T03:00:00Z")!)
        try alertReport.writeWorkbook(to: report)
        try ErrorWorkbook.write(source: Self.fixtures.appendingPathComponent("libreoffice-surveys.xlsx").path,
                                notes: [CellNote(sheet: "Khảo sát", column: 5, row: 5, text: "số người hài lòng lớn hơn số người được hỏi"),
                                        CellNote(sheet: "Khảo sát", column: 7, row: 4, text: "ô trống ở cột bắt buộc")],
                                to: errors)

        let inspected = try run(["/usr/bin/python3", Self.fixtures.appendingPathComponent("openpyxl_view.py").path, template, report, errors], in: folder)
        try #require(inspected.status == 0, "openpyxl could not open our workbooks (is python3-openpyxl installed? scripts/test.sh installs it)")
        let books = try #require(try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) as? [String: [String: Any]])

        // The template: Vietnamese headers, a frozen header, filters, lists for the closed sets.
        let templateBook = try #require(books[template])
        #expect((templateBook["sheets"] as? [String])?.first == "Đơn vị")
        let surveySheet = try #require((templateBook["content"] as? [String: [String: Any]])?["Khảo sát"])
        #expect(surveySheet["freeze"] as? String == "A2")
        #expect(surveySheet["filter"] as? String == "A1:G3")
        let surveyCells = try #require(surveySheet["cells"] as? [String: [String: Any]])
        #expect(surveyCells["B1"]?["value"] as? String == "Mã khảo sát")
        #expect(surveyCells["A2"]?["value"] as? String == "Mô tả")
        #expect(surveyCells["D3"]?["type"] as? String == "datetime")
        #expect(surveyCells["D3"]?["format"] as? String == "dd/mm/yyyy")
        let validations = try #require(surveySheet["validations"] as? [[String: Any]])
        #expect(validations.contains { $0["range"] as? String == "E3:E2000" && $0["list"] as? String == "\"ntm_results,admin_procedures\"" })

        // The report: a summary, one sheet per area, amounts with separators, real dates.
        let reportBook = try #require(books[report])
        #expect(reportBook["sheets"] as? [String] == ["Tổng hợp", "Quảng Nam", "Tiên Phước", "Đại Lộc"])
        let content = try #require(reportBook["content"] as? [String: [String: Any]])
        let daiLoc = try #require(content["Đại Lộc"]?["cells"] as? [String: [String: Any]])
        #expect(content["Đại Lộc"]?["freeze"] as? String == "A2")
        #expect(content["Đại Lộc"]?["filter"] as? String == "A1:I2")
        #expect(daiLoc["A1"]?["value"] as? String == "Mức độ")
        #expect(daiLoc["E2"]?["value"] as? String == "'=xã Đại Chánh còn nợ đọng XDCB")
        #expect(daiLoc["G2"]?["value"] as? String == "2024-07-01T00:00:00")
        #expect(daiLoc["G2"]?["format"] as? String == "dd/mm/yyyy")
        #expect(daiLoc["H2"]?["value"] as? Int == 1_250_000_000)
        #expect(daiLoc["H2"]?["format"] as? String == "#,##0")
        let quangNam = try #require(content["Quảng Nam"]?["cells"] as? [String: [String: Any]])
        #expect(quangNam["G2"]?["value"] as? String == "2024-12-31T00:00:00")
        let summary = try #require(content["Tổng hợp"]?["cells"] as? [String: [String: Any]])
        #expect(summary["B5"]?["value"] as? Int == 3)

        // The error workbook: the user's cells intact, the noted ones filled and commented.
        let errorBook = try #require(books[errors])
        #expect(errorBook["sheets"] as? [String] == ["Đơn vị", "Khảo sát"])
        let marked = try #require((errorBook["content"] as? [String: [String: Any]])?["Khảo sát"]?["cells"] as? [String: [String: Any]])
        #expect(marked["A1"]?["value"] as? String == "UBND TỈNH QUẢNG NAM — KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG CỦA NGƯỜI DÂN")
        #expect(marked["F5"]?["value"] as? Int == 101)
        #expect(marked["F5"]?["fill"] as? String == "FFFFC7CE")
        #expect((marked["F5"]?["comment"] as? String)?.contains("số người hài lòng lớn hơn số người được hỏi") == true)
        #expect((marked["H4"]?["comment"] as? String)?.contains("ô trống ở cột bắt buộc") == true)
        #expect(marked["C5"]?["type"] as? String == "datetime")
        #expect(marked["C5"]?["fill"] == nil || marked["C5"]?["fill"] is NSNull)

        // LibreOffice: one batch, every sheet of every file to CSV, as it shows the cells.
        let profile = folder.appendingPathComponent("profile").path
        let converted = try run(["/usr/bin/soffice", "-env:UserInstallation=file://\(profile)", "--headless", "--convert-to",
                                 "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
                                 "--outdir", folder.appendingPathComponent("csv").path, template, report, errors], in: folder)
        try #require(converted.status == 0, "LibreOffice could not convert our workbooks (is libreoffice-calc-nogui installed?)")
        func csv(_ name: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent("csv/\(name).csv"), encoding: .utf8)
        }
        #expect(try csv("baocao-Đại Lộc").contains("Nghiêm trọng,Đại Lộc,Đại Chánh,Đại Chánh,'=xã Đại Chánh còn nợ đọng XDCB,debt.outstanding,01/07/2024,\"1,250,000,000\",Đang cảnh báo"))
        #expect(try csv("baocao-Quảng Nam").contains(",31/12/2024,"))
        #expect(try csv("mau-Khảo sát").contains("Ví dụ,surveys-01,Tam Thành,30/06/2025,ntm_results"))
        #expect(try csv("loi-Khảo sát").contains("KS-DT-2024,20108,29/02/2024,admin_procedures,120,101"))
    }
}
