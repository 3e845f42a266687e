import CheckKit
import Foundation
import Testing
@testable import NTMWatchCore

@Suite struct AlertReportTests {
    let at = ISO8601DateFormatter().date(from: "2025-01-02T03:00:00Z")!

    @Test func csvHasAByteOrderMarkAndNoRunnableText() {
        let csv = AlertReport(alerts: ThirdPartyTests.alerts, at: at).csv()
        #expect(csv.hasPrefix("\u{FEFF}Mức độ,Khu vực,Đối tượng,"))
        let lines = csv.dropFirst().components(separatedBy: "\r\n")
        #expect(lines[1] == "Nghiêm trọng,Đại Lộc,Đại Chánh,Đại Chánh,'=xã Đại Chánh còn nợ đọng XDCB,debt.outstanding,01/07/2024,1250000000,Đang cảnh báo")
        // 16:59 UTC on 31/12 is 23:59 in Vietnam: still 31/12.
        #expect(lines[2].contains(",31/12/2024,"))
        #expect(lines[3].contains("\"Tỷ lệ hài lòng 82,5% dưới ngưỡng 90%\""))
    }

    @Test func filtersMatchWhatTheyName() {
        func count(_ filter: AlertReport.Filter) -> Int { AlertReport(alerts: ThirdPartyTests.alerts, at: at, filter: filter).alerts.count }
        #expect(count(.init()) == 3)
        #expect(count(.init(parent: "Đại Lộc")) == 1)
        #expect(count(.init(parent: "Quảng Nam")) == 3)
        #expect(count(.init(unit: "tiên lãnh")) == 1)
        #expect(count(.init(rule: "debt")) == 1)
        #expect(count(.init(severity: .error)) == 2)
    }

    @Test func areasAreTheDistrictOrElseTheProvince() {
        let report = AlertReport(alerts: ThirdPartyTests.alerts, at: at)
        #expect(report.areas.map(\.0) == ["Quảng Nam", "Tiên Phước", "Đại Lộc"])
        var used: Set<String> = ["tổng hợp"]
        #expect(AlertReport.sheetName("Tổng hợp", used: &used) == "Tổng hợp (2)")
        #expect(AlertReport.sheetName("TP. Hội An / Đà Nẵng [cũ]: một tên rất dài", used: &used).count <= 31)
    }
}
