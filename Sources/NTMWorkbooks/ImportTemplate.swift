import CheckKit
import Foundation
import NTMSpreadsheet
import NTMStore

/// Workbooks to fill in for `ntmwatch import`: one sheet per kind, a header, a description row and
/// an example row. Both extra rows carry a mark in the `STT` column that the import skips, so the
/// template imports back unchanged as nothing at all.
public enum ImportTemplate {
    /// Rows below the header that get the drop-down lists.
    static let validatedRows = 2000

    public static func write(_ kinds: [ImportKind], to path: String) throws {
        try WorkbookWriter.write(kinds.map(sheet), to: path)
    }

    /// The header the template writes for a field: its first Vietnamese name, capitalized, else the column.
    static func headerText(_ field: FieldSpec) -> String {
        guard let name = field.aliases.first(where: { !$0.allSatisfy(\.isASCII) }) else { return field.column }
        return name.prefix(1).uppercased() + name.dropFirst()
    }

    static func sheet(_ kind: ImportKind) -> WorkbookWriter.Sheet {
        let fields = KindSpec.spec(for: kind).fields
        let header: [WorkbookWriter.Cell] = [.text("STT", .header)] + fields.map { .text(headerText($0), .header) }
        let description: [WorkbookWriter.Cell] = [.text("Mô tả", .note)] + fields.map { .text(describe($0), .note) }
        let example: [WorkbookWriter.Cell] = [.text("Ví dụ", .note)] + fields.map { exampleCell($0, kind: kind) }
        var validations: [WorkbookWriter.Validation] = []
        for (index, field) in fields.enumerated() {
            if let list = choices(field) {
                validations.append(.init(column: index + 1, firstRow: 3, lastRow: validatedRows, choices: list.values, strict: list.strict))
            }
        }
        return WorkbookWriter.Sheet(name: kind.sheetName, rows: [header, description, example], frozenRows: 1,
                                    filterRow: 1, validations: validations)
    }

    /// Closed sets get a strict list; levels are data, so theirs only suggests.
    static func choices(_ field: FieldSpec) -> (values: [String], strict: Bool)? {
        switch field.type {
        case .choice(let choices): return (choices, true)
        case .flag: return (["có", "không"], true)
        case .text where field.column == "level" || field.column == "unit_level":
            return (["province", "district", "commune", "village"], false)
        default: return nil
        }
    }

    static func describe(_ field: FieldSpec) -> String {
        let what: String
        switch field.type {
        case .text: what = "Chữ."
        case .integer(let range): what = "Số nguyên từ \(range.lowerBound) đến \(range.upperBound)."
        case .amount: what = "Số tiền (đồng), số nguyên không âm."
        case .number: what = "Số; phần thập phân sau dấu phẩy hoặc dấu chấm."
        case .date: what = "Ngày (ô kiểu ngày, hoặc dd/mm/yyyy)."
        case .instant: what = "Thời điểm (ngày giờ, giờ Việt Nam) hoặc ngày."
        case .flag: what = "có hoặc không."
        case .choice(let choices): what = "Một trong: \(choices.joined(separator: ", "))."
        case .unit: what = "Mã đơn vị, hoặc tên (kèm cột huyện nếu trùng tên)."
        case .reference(let table): what = "Mã đã có trong bảng \(table)."
        case .schedule: what = "Ngày (30/10/2024), monthly:N (ngày N hằng tháng), quarterly:03-15|06-15|09-15|12-15 (một ngày mỗi quý) hoặc yearly:MM-DD."
        case .days: what = "Số ngày nhắc trước, cách nhau dấu phẩy: 30,14,7."
        case .regionThresholds: what = "JSON ngưỡng theo vùng: {\"mountain\": 70}."
        case .deadlineSemantics: what = "before (trước ngày: hạn cuối là hôm trước) hoặc by (chậm nhất ngày đó); within_month, within_quarter, within_half, within_year."
        case .selector: what = "Nhóm đơn vị áp dụng, các điều kiện cách nhau dấu ;: level=commune;tier=ntm;recognized_by=2021-12-31."
        }
        let required = field.required ? "Bắt buộc. " : ""
        let fallback = field.defaultValue.text.map { " Để trống: \($0)." } ?? ""
        return "\(required)\(what)\(fallback) (\(field.column))"
    }

    static func exampleCell(_ field: FieldSpec, kind: ImportKind) -> WorkbookWriter.Cell {
        switch field.type {
        case .text:
            let samples = ["name": "Tam Thành", "level": "commune", "unit_level": "commune", "id": "\(kind.rawValue)-01",
                           "name_vi": "Giao thông", "name_en": "Transport", "title_vi": "Báo cáo kết quả thực hiện",
                           "title_en": "Progress report", "code": "2", "criterion_code": "2", "unit": "%",
                           "indicator": "communes_ntm_share", "decision": "123/QĐ-UBND", "investor": "UBND xã Tam Thành"]
            return .text(samples[field.column] ?? "…", .note)
        case .integer(let range): return .number(Double(range.contains(2025) ? 2025 : range.lowerBound + 100), .note)
        case .amount: return .number(1_500_000_000, .note)
        case .number: return .number(92.5, .note)
        case .date: return .date(CivilDate(year: 2025, month: 6, day: 30)!)
        case .instant: return .text("2025-06-30T16:00:00+07:00", .note)
        case .flag: return .text("có", .note)
        case .choice(let choices): return .text(choices[0], .note)
        case .unit: return .text("Tam Thành", .note)
        case .reference: return .text("MA-01", .note)
        case .schedule: return .text("yearly:12-31", .note)
        case .days: return .text("30,14,7", .note)
        case .regionThresholds: return .text("{\"mountain\": 70}", .note)
        case .deadlineSemantics: return .text("before", .note)
        case .selector: return .text("level=commune;tier=ntm;recognized_by=2021-12-31", .note)
        }
    }
}
