import CheckKit
import Foundation
import NTMAlerting
import NTMSpreadsheet
import NTMStore

/// Open alerts as a workbook (a summary sheet and one sheet per area) and as CSV for older Excel.
public struct AlertReport: Sendable {
    /// Which alerts `ntmwatch alerts` lists and a report holds; every filter given must match.
    public struct Filter: Sendable {
        /// The subject's unit or id, or the commune label.
        public var unit: String?
        /// Any hierarchy label (units under this one).
        public var parent: String?
        /// A rule id.
        public var rule: String?
        /// The least severity shown.
        public var severity: Severity?

        static let hierarchyLabels = ["commune", "village", "district", "province", "escalation_target"]

        public init(unit: String? = nil, parent: String? = nil, rule: String? = nil, severity: Severity? = nil) {
            self.unit = unit; self.parent = parent; self.rule = rule; self.severity = severity
        }

        public func matches(_ alert: Alert) -> Bool {
            if let unit, alert.subject.unitID != unit && alert.subject.id != unit && alert.labels["commune"] != unit { return false }
            if let parent, !Self.hierarchyLabels.contains(where: { alert.labels[$0] == parent }) { return false }
            if let rule, alert.ruleID != rule { return false }
            if let severity, alert.severity < severity { return false }
            return true
        }
    }

    public let alerts: [Alert]
    public let at: Date

    public init(alerts: [Alert], at: Date, filter: Filter = Filter()) {
        self.alerts = alerts.filter { $0.status != .resolved && filter.matches($0) }
            .sorted { ($1.severity, $0.ruleID, $0.subject.name) < ($0.severity, $1.ruleID, $1.subject.name) }
        self.at = at
    }

    /// The alerts open (pending or firing) at `instant`, rebuilt from the history: each alert's
    /// status is its last transition at or before the instant, its content the last notification
    /// about it by then (else its current state), its severity the transition's.
    public static func alertsOpen(at instant: Date, transitions: [AlertTracker.Transition],
                                  notifications: [NTMAlerting.Notification], current: [Alert]) -> [Alert] {
        var last: [String: AlertTracker.Transition] = [:]
        var activeSince: [String: Date] = [:], firingSince: [String: Date] = [:]
        for transition in transitions where transition.at <= instant {
            last[transition.fingerprint] = transition
            if transition.from == nil || transition.from == .resolved { activeSince[transition.fingerprint] = transition.at }
            if transition.to == .firing, transition.from != .firing { firingSince[transition.fingerprint] = transition.at }
        }
        var body = Dictionary(current.map { ($0.fingerprint, $0) }) { first, _ in first }
        for notification in notifications where notification.at <= instant { body[notification.alert.fingerprint] = notification.alert }
        return last.values.compactMap { transition -> Alert? in
            guard let status = transition.to, status != .resolved, var alert = body[transition.fingerprint] else { return nil }
            alert.status = status
            alert.severity = transition.severity
            alert.activeSince = activeSince[transition.fingerprint] ?? alert.activeSince
            alert.firingSince = status == .firing ? firingSince[transition.fingerprint] ?? alert.firingSince : nil
            alert.resolvedAt = nil
            return alert
        }
    }

    /// The area an alert belongs to: its district label, or its province's when it has none.
    /// (The hierarchy's labels are data; the report groups by what they say.)
    public static func area(_ alert: Alert) -> String {
        alert.labels["district"] ?? alert.labels["province"] ?? "Không rõ khu vực"
    }

    static func severityName(_ severity: Severity) -> String {
        switch severity {
        case .critical: "Nghiêm trọng"
        case .error: "Lỗi"
        case .warning: "Cảnh báo"
        case .notice: "Lưu ý"
        case .info: "Thông tin"
        }
    }

    static func statusName(_ status: Alert.Status) -> String {
        switch status {
        case .pending: "Chờ xác nhận"
        case .firing: "Đang cảnh báo"
        case .resolved: "Đã hết"
        }
    }

    /// The alert's amount in đồng, when it carries one (the first by value name).
    static func amount(_ alert: Alert) -> Int64? {
        for key in alert.values.keys.sorted() { if case .amountVND(let amount) = alert.values[key] { return amount } }
        return nil
    }

    static let columns = ["Mức độ", "Khu vực", "Đối tượng", "Mã đối tượng", "Nội dung", "Quy tắc",
                          "Cảnh báo từ ngày", "Số tiền (đồng)", "Trạng thái"]

    static func civil(_ instant: Date) -> CivilDate { CivilDate(instant) }

    var areas: [(String, [Alert])] {
        Dictionary(grouping: alerts, by: Self.area).sorted { $0.key < $1.key }
    }

    // MARK: Workbook

    public func writeWorkbook(to path: String) throws {
        var sheets = [summarySheet()]
        var used = Set([NameKey.exact(sheets[0].name)])
        for (area, alerts) in areas {
            let name = Self.sheetName(area, used: &used)
            var rows: [[WorkbookWriter.Cell]] = [Self.columns.map { .text($0, .header) }]
            rows += alerts.map(row)
            sheets.append(WorkbookWriter.Sheet(name: name, rows: rows))
        }
        try WorkbookWriter.write(sheets, to: path)
    }

    func summarySheet() -> WorkbookWriter.Sheet {
        let severities = Severity.allCases.reversed()
        var rows: [[WorkbookWriter.Cell]] = [
            (["Khu vực", "Tổng số"] + severities.map(Self.severityName) + ["Tổng số tiền (đồng)"]).map { .text($0, .header) },
        ]
        for (area, alerts) in areas {
            var row: [WorkbookWriter.Cell] = [.text(SpreadsheetText.neutralised(area)), .number(Double(alerts.count))]
            row += severities.map { severity in .number(Double(alerts.filter { $0.severity == severity }.count)) }
            row.append(.number(Double(alerts.compactMap(Self.amount).reduce(0, +)), .amount))
            rows.append(row)
        }
        var total: [WorkbookWriter.Cell] = [.text("Tổng cộng", .header), .number(Double(alerts.count))]
        total += severities.map { severity in .number(Double(alerts.filter { $0.severity == severity }.count)) }
        total.append(.number(Double(alerts.compactMap(Self.amount).reduce(0, +)), .amount))
        rows.append(total)
        rows.append([])
        let day = Self.civil(at)
        rows.append([.text("Cảnh báo đang mở tại ngày"), .date(day)])
        return WorkbookWriter.Sheet(name: "Tổng hợp", rows: rows, filterRow: nil)
    }

    func row(_ alert: Alert) -> [WorkbookWriter.Cell] {
        let since = Self.civil(alert.firingSince ?? alert.activeSince)
        return [
            .text(Self.severityName(alert.severity)),
            .text(SpreadsheetText.neutralised(Self.area(alert))),
            .text(SpreadsheetText.neutralised(alert.subject.name)),
            .text(SpreadsheetText.neutralised(alert.subject.id)),
            .text(SpreadsheetText.neutralised(alert.summary(in: .vi))),
            .text(alert.ruleID),
            .date(since),
            Self.amount(alert).map { .number(Double($0), .amount) } ?? .empty,
            .text(Self.statusName(alert.status)),
        ]
    }

    /// Excel's sheet names: at most 31 characters, none of `[]:*?/\`, unique without regard to case.
    static func sheetName(_ area: String, used: inout Set<String>) -> String {
        let cleaned = String(area.map { "[]:*?/\\".contains($0) ? "-" : $0 }).trimmingCharacters(in: CharacterSet(charactersIn: "' "))
        let base = String((cleaned.isEmpty ? "Khu vực" : cleaned).prefix(31))
        var name = base
        var number = 2
        while used.contains(NameKey.exact(name)) {
            let suffix = " (\(number))"
            name = String(base.prefix(31 - suffix.count)) + suffix
            number += 1
        }
        used.insert(NameKey.exact(name))
        return name
    }

    // MARK: CSV

    /// UTF-8 with a byte-order mark, so that Excel versions that guess the encoding read Vietnamese.
    public func csv() -> String {
        var lines = [Self.columns.map(Self.csvField).joined(separator: ",")]
        for alert in alerts {
            let since = Self.civil(alert.firingSince ?? alert.activeSince)
            let fields = [
                Self.severityName(alert.severity), Self.area(alert), alert.subject.name, alert.subject.id, alert.summary(in: .vi),
                alert.ruleID, since.vietnamese,
                Self.amount(alert).map { String($0) } ?? "", Self.statusName(alert.status),
            ]
            lines.append(fields.enumerated().map { index, field in
                // The amount is a number; everything else is text a spreadsheet must not run.
                Self.csvField(index == 7 ? field : SpreadsheetText.neutralised(field))
            }.joined(separator: ","))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
