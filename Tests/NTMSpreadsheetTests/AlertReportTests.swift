import CheckKit
import Foundation
import Testing
@testable import NTMAlerting
@testable import NTMWorkbooks

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
        #expect(count(.init(unit: "Tiên Lãnh")) == 1)
        #expect(count(.init(rule: "debt.outstanding")) == 1)
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

@Suite struct AlertReportHistoryTests {
    @Test func alertsOpenAtAnInstantComeFromTheHistory() {
        let debt = ThirdPartyTests.alerts[0], survey = ThirdPartyTests.alerts[1]
        func t(_ hour: Int) -> Date { Date(timeIntervalSince1970: 1_730_000_000 + Double(hour) * 3600) }
        func step(_ alert: Alert, _ hour: Int, _ from: Alert.Status?, _ to: Alert.Status?, _ severity: Severity = .warning) -> AlertTracker.Transition {
            .init(fingerprint: alert.fingerprint, at: t(hour), from: from, to: to, severity: severity, ruleID: alert.ruleID, subjectID: alert.subject.id)
        }
        let transitions = [step(debt, 1, nil, .pending), step(debt, 2, .pending, .firing, .critical), step(survey, 3, nil, .pending),
                           step(debt, 4, .firing, .resolved, .critical)]
        var notified = debt
        notified.message = .rendered(LocalizedText(vi: "nợ lúc báo", en: "debt when notified"))
        let notifications = [NTMAlerting.Notification(id: "n1", reason: .firing, at: t(2), alert: notified)]
        var resolvedDebt = debt
        resolvedDebt.status = .resolved
        let current = [resolvedDebt, survey]
        func open(_ hour: Double) -> [String] {
            AlertReport.alertsOpen(at: t(0).addingTimeInterval(hour * 3600), transitions: transitions, notifications: notifications, current: current)
                .map { "\($0.ruleID) \($0.status) \($0.severity) \($0.summary.vi)" }.sorted()
        }
        #expect(open(0.5) == [])
        #expect(open(1.5) == ["debt.outstanding pending warning =xã Đại Chánh còn nợ đọng XDCB"])
        #expect(open(2.5) == ["debt.outstanding firing critical nợ lúc báo"])
        #expect(open(3.5) == ["debt.outstanding firing critical nợ lúc báo", "satisfaction.low pending warning Tỷ lệ hài lòng 82,5% dưới ngưỡng 90%"])
        #expect(open(5) == ["satisfaction.low pending warning Tỷ lệ hài lòng 82,5% dưới ngưỡng 90%"])
    }
}
