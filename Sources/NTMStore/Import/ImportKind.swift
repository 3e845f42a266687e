import CheckKit
import Foundation

/// A cell after validation, ready to bind.
package enum Cell: Hashable, Sendable {
    case text(String)
    case integer(Int64)
    case number(Double)
    case null
}

/// What a column holds and how its text is read.
package enum FieldType: Sendable {
    case text
    case integer(ClosedRange<Int64>)
    /// Whole VND, not negative; "1.234.567" and "1,234,567" are read as grouping.
    case amount
    case number(ClosedRange<Double>)
    case date
    case instant
    /// 1/0, true/false, yes/no, có/không, đạt/không đạt.
    case flag
    case choice([String])
    /// An administrative unit: by id, or by name (within a parent given in a parent column).
    case unit
    /// A row's id in another table, which must exist there (or earlier in the same file).
    case reference(table: String)
    case schedule
    /// `before` or `by`; a reviewed `ntmwatch extract` file also says `within_month`, `within_quarter`,
    /// `within_half` or `within_year`, which are `by` the period's last day (its `schedule` holds that day).
    case deadlineSemantics
    case days
    /// `{"mountain": 70}`.
    case regionThresholds
    /// A ``UnitSelector`` (`level=commune;tier=ntm`).
    case selector
}

package struct FieldSpec: Sendable {
    package let column: String
    /// Other headers accepted for the column (Vietnamese first).
    package let aliases: [String]
    package let type: FieldType
    package let required: Bool
    package let defaultValue: Cell

    /// The column's name and aliases as header keys. Computed once: Unicode normalization of every
    /// alias for every cell of a file was 60% of an import's time.
    package let headerKeys: [String]

    init(_ column: String, _ aliases: [String] = [], _ type: FieldType, required: Bool = false, default defaultValue: Cell = .null) {
        self.column = column; self.aliases = aliases; self.type = type; self.required = required
        self.defaultValue = defaultValue
        self.headerKeys = ([column] + aliases).map(TabularFile.headerKey)
    }
}

/// A validated row: one cell per field of its kind, in the kind's order, nil where the file does
/// not give the column (an update keeps the stored value, an insert takes the column's default).
/// Positions rather than a dictionary per row, which was a large part of an import's time.
package struct ImportRow: Sendable {
    /// The kind's columns, in order: one array shared by every row of a file.
    let columns: [String]
    var cells: [Cell?]

    init(columns: [String]) {
        self.columns = columns
        cells = Array(repeating: nil, count: columns.count)
    }

    /// The cell of a column by name (for the kinds' rules and messages).
    subscript(_ column: String) -> Cell? {
        get { columns.firstIndex(of: column).flatMap { cells[$0] } }
        set { cells[columns.firstIndex(of: column)!] = newValue }
    }
}

/// A cross-column rule of one kind: returns the column and the reason when a row breaks it.
typealias RowCheck = @Sendable (ImportRow) -> (column: String, reason: LocalizedText)?

/// Each kind of file `ntmwatch import` accepts, and the table it fills.
public enum ImportKind: String, Sendable, CaseIterable {
    case units, unitParents = "unit-parents", unitSuccessions = "unit-successions", criteriaSets = "criteria-sets", criteria, assessments, recognitions, roadmap
    case submissions, obligations, completions, projects, disbursements, debts
    case repaymentPlans = "repayment-plans", capitalPlans = "capital-plans"
    case capitalDisbursements = "capital-disbursements", reallocationReports = "reallocation-reports"
    case surveys, targets

    var table: String {
        switch self {
        case .units: "units"
        case .unitParents: "unit_parents"
        case .unitSuccessions: "unit_successions"
        case .criteriaSets: "criteria_sets"
        case .criteria: "criteria"
        case .assessments: "assessments"
        case .recognitions: "recognitions"
        case .roadmap: "roadmap"
        case .submissions: "dossier_submissions"
        case .obligations: "obligations"
        case .completions: "obligation_completions"
        case .projects: "projects"
        case .disbursements: "project_disbursements"
        case .debts: "project_debts"
        case .repaymentPlans: "repayment_plans"
        case .capitalPlans: "capital_plans"
        case .capitalDisbursements: "capital_disbursements"
        case .reallocationReports: "reallocation_reports"
        case .surveys: "surveys"
        case .targets: "province_targets"
        }
    }

    /// The order a whole folder is imported in, so references exist before they are used.
    public static let dependencyOrder: [ImportKind] = [
        .units, .unitParents, .unitSuccessions, .criteriaSets, .criteria, .assessments, .recognitions, .roadmap, .submissions, .obligations,
        .completions, .projects, .disbursements, .debts, .repaymentPlans, .capitalPlans, .capitalDisbursements,
        .reallocationReports, .surveys, .targets,
    ]
}

package struct KindSpec: Sendable {
    package let fields: [FieldSpec]
    let key: [String]
    let checks: [RowCheck]
    /// Columns of this kind that are read past: evidence a reviewer keeps beside the data.
    var ignored: [String] = []

    /// The fields' columns, in order.
    var columns: [String] { fields.map(\.column) }
    /// The key's positions among the fields.
    var keyPositions: [Int] { key.map { column in fields.firstIndex { $0.column == column }! } }

    static let tiers = ["ntm", "nang_cao", "kieu_mau"]
    static let budgetLevels = BudgetLevel.allCases.map(\.rawValue)
    static let years: ClosedRange<Int64> = 2000...2100
    static let unitAliases = ["mã đơn vị", "đơn vị", "tên đơn vị", "xã", "unit", "commune"]

    package static func spec(for kind: ImportKind) -> KindSpec {
        switch kind {
        case .units:
            return KindSpec(fields: [
                FieldSpec("id", ["mã", "mã đơn vị", "code"], .text),
                FieldSpec("name", ["tên", "tên đơn vị"], .text, required: true),
                FieldSpec("level", ["cấp"], .text, required: true),
                FieldSpec("parent_id", ["cấp trên", "mã cấp trên", "parent"], .unit),
                FieldSpec("region", ["vùng"], .choice(["plains", "midland", "mountain"])),
                FieldSpec("valid_from", ["hiệu lực từ"], .date),
                FieldSpec("valid_to", ["hiệu lực đến"], .date),
                FieldSpec("successor_id", ["đơn vị kế thừa", "successor"], .unit),
            ], key: ["id"], checks: [dateOrder("valid_from", "valid_to")])
        case .unitParents:
            return KindSpec(fields: [
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("parent_id", ["cấp trên", "mã cấp trên", "parent"], .unit, required: true),
                FieldSpec("valid_from", ["hiệu lực từ", "từ ngày"], .date, required: true),
                FieldSpec("valid_to", ["hiệu lực đến", "đến ngày"], .date),
            ], key: ["unit_id", "valid_from"], checks: [dateOrder("valid_from", "valid_to"), { row in
                row["unit_id"] != .null && row["unit_id"] == row["parent_id"]
                    ? ("parent_id", LocalizedText(vi: "đơn vị không thể là cấp trên của chính nó", en: "a unit cannot be its own parent"))
                    : nil
            }])
        case .unitSuccessions:
            return KindSpec(fields: [
                FieldSpec("predecessor_id", ["đơn vị cũ", "predecessor"], .unit, required: true),
                FieldSpec("successor_id", ["đơn vị kế thừa", "successor"], .unit, required: true),
                FieldSpec("effective_on", ["hiệu lực từ", "ngày hiệu lực"], .date, required: true),
                FieldSpec("kind", ["hình thức"], .choice(Succession.Kind.allCases.map(\.rawValue)), default: .text("merge")),
                FieldSpec("share", ["tỷ lệ"], .number(0...1)),
            ], key: ["predecessor_id", "successor_id"], checks: [{ row in
                row["predecessor_id"] != .null && row["predecessor_id"] == row["successor_id"]
                    ? ("successor_id", LocalizedText(vi: "đơn vị không thể kế thừa chính nó", en: "a unit cannot succeed itself"))
                    : nil
            }])
        case .criteriaSets:
            return KindSpec(fields: [
                FieldSpec("id", ["mã bộ tiêu chí"], .text, required: true),
                FieldSpec("name_vi", ["tên"], .text, required: true),
                FieldSpec("name_en", ["name"], .text, required: true),
                FieldSpec("unit_level", ["cấp áp dụng"], .text, required: true),
                FieldSpec("tier", ["mức"], .choice(tiers), required: true),
                FieldSpec("valid_from", ["hiệu lực từ"], .date, required: true),
                FieldSpec("valid_to", ["hiệu lực đến"], .date),
            ], key: ["id"], checks: [dateOrder("valid_from", "valid_to")])
        case .criteria:
            return KindSpec(fields: [
                FieldSpec("set_id", ["mã bộ tiêu chí"], .reference(table: "criteria_sets"), required: true),
                FieldSpec("code", ["số", "mã tiêu chí", "number"], .text, required: true),
                FieldSpec("parent_code", ["thuộc tiêu chí"], .text),
                FieldSpec("name_vi", ["tên tiêu chí"], .text, required: true),
                FieldSpec("name_en", ["name"], .text, required: true),
                FieldSpec("measure", ["cách đánh giá"], .choice(["boolean", "threshold"]), default: .text("boolean")),
                FieldSpec("threshold", ["ngưỡng"], .number(-1e15...1e15)),
                FieldSpec("unit", ["đơn vị tính"], .text),
                FieldSpec("direction", ["chiều"], .choice(["at_least", "at_most"])),
                FieldSpec("region_thresholds", ["ngưỡng theo vùng"], .regionThresholds),
            ], key: ["set_id", "code"], checks: [
                { row in
                    row["measure"] == .text("threshold") && row["threshold"] == .null
                        ? ("threshold", LocalizedText(vi: "tiêu chí đo theo ngưỡng cần có ngưỡng", en: "a threshold criterion needs a threshold"))
                        : nil
                },
                percentAtMost100("threshold", unitColumn: "unit"),
            ])
        case .assessments:
            return KindSpec(fields: [
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("set_id", ["mã bộ tiêu chí"], .reference(table: "criteria_sets"), required: true),
                FieldSpec("criterion_code", ["tiêu chí", "mã tiêu chí", "criterion"], .text, required: true),
                FieldSpec("assessed_on", ["ngày đánh giá", "date"], .date, required: true),
                FieldSpec("met", ["đạt"], .flag, required: true),
                FieldSpec("value", ["giá trị"], .number(-1e15...1e15)),
                FieldSpec("source", ["nguồn"], .text),
            ], key: ["unit_id", "set_id", "criterion_code", "assessed_on"], checks: [])
        case .recognitions:
            return KindSpec(fields: [
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("tier", ["mức"], .choice(tiers), required: true),
                FieldSpec("recognized_on", ["ngày công nhận"], .date, required: true),
                FieldSpec("decision", ["quyết định", "số quyết định"], .text),
                FieldSpec("set_id", ["mã bộ tiêu chí"], .reference(table: "criteria_sets")),
                FieldSpec("revoked_on", ["ngày thu hồi"], .date),
                FieldSpec("revocation_decision", ["quyết định thu hồi"], .text),
            ], key: ["unit_id", "tier", "recognized_on"], checks: [dateOrder("recognized_on", "revoked_on")])
        case .roadmap:
            return KindSpec(fields: [
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("tier", ["mức", "target_tier"], .choice(tiers), required: true),
                FieldSpec("target_year", ["năm", "năm đạt chuẩn"], .integer(years), required: true),
                FieldSpec("note", ["ghi chú"], .text),
            ], key: ["unit_id", "tier"], checks: [])
        case .submissions:
            return KindSpec(fields: [
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("tier", ["mức"], .choice(tiers), required: true),
                FieldSpec("year", ["năm"], .integer(years), required: true),
                FieldSpec("stage", ["bước"], .choice(DossierSubmission.Stage.allCases.map(\.rawValue)), required: true),
                FieldSpec("submitted_on", ["ngày trình"], .date, required: true),
            ], key: ["unit_id", "tier", "year", "stage"], checks: [])
        case .obligations:
            return KindSpec(fields: [
                FieldSpec("id", ["mã"], .text, required: true),
                FieldSpec("title_vi", ["nội dung", "tiêu đề"], .text, required: true),
                FieldSpec("title_en", ["title"], .text, required: true),
                FieldSpec("legal_basis", ["căn cứ", "source", "văn bản", "document"], .text),
                FieldSpec("responsible_unit_id", ["đơn vị chủ trì"], .unit),
                FieldSpec("responsible_body", ["cơ quan chủ trì", "responsible"], .text),
                FieldSpec("submits_to", ["trình", "gửi đến"], .text),
                FieldSpec("schedule", ["thời hạn", "hạn"], .schedule, required: true),
                FieldSpec("semantics", ["cách tính hạn"], .deadlineSemantics, default: .text("before")),
                FieldSpec("starts_on", ["từ ngày"], .date),
                FieldSpec("ends_on", ["đến ngày"], .date),
                FieldSpec("depends_on", ["sau bước"], .reference(table: "obligations")),
                FieldSpec("reminder_days", ["nhắc trước (ngày)"], .days),
                FieldSpec("status", ["trạng thái"], .choice(["open", "cancelled"]), default: .text("open")),
                FieldSpec("applies_to", ["áp dụng cho"], .selector),
                // The evidence of `ntmwatch extract --format csv` (with `document` as `legal_basis`),
                // kept with the duty and shown with its alerts.
                FieldSpec("section", ["mục"], .text),
                FieldSpec("quote", ["trích dẫn"], .text),
            ], key: ["id"], checks: [dateOrder("starts_on", "ends_on")],
                // `due`, `recurrence` and `last_day` are read by ``RowValidator/deadlineColumns(_:)``:
                // they may stand for `schedule`; the others are only for the reviewer.
                ignored: ["responsible_key", "due", "recurrence", "last_day", "applies_to_kind"])
        case .completions:
            return KindSpec(fields: [
                FieldSpec("obligation_id", ["mã nhiệm vụ"], .reference(table: "obligations"), required: true),
                // Empty for an obligation of one unit or body; the completing unit for a template.
                FieldSpec("unit_id", unitAliases, .unit, default: .text("")),
                FieldSpec("occurrence", ["kỳ", "hạn của kỳ"], .date, required: true),
                FieldSpec("completed_at", ["hoàn thành lúc", "ngày hoàn thành"], .instant, required: true),
            ], key: ["obligation_id", "unit_id", "occurrence"], checks: [])
        case .projects:
            return KindSpec(fields: [
                FieldSpec("id", ["mã dự án", "mã số dự án"], .text, required: true),
                FieldSpec("name", ["tên dự án", "tên công trình"], .text, required: true),
                FieldSpec("commune_id", ["xã", "mã xã", "commune"], .unit, required: true),
                FieldSpec("investor", ["chủ đầu tư"], .text),
                FieldSpec("allocated_on", ["ngày phân bổ vốn"], .date),
                FieldSpec("total_vnd", ["tổng mức", "tổng vốn"], .amount, required: true),
                FieldSpec("central_vnd", ["ngân sách trung ương"], .amount, default: .integer(0)),
                FieldSpec("provincial_vnd", ["ngân sách tỉnh"], .amount, default: .integer(0)),
                FieldSpec("district_vnd", ["ngân sách huyện"], .amount, default: .integer(0)),
                FieldSpec("commune_vnd", ["ngân sách xã"], .amount, default: .integer(0)),
                FieldSpec("residents_vnd", ["nhân dân đóng góp"], .amount, default: .integer(0)),
                FieldSpec("handover_on", ["ngày bàn giao"], .date),
                FieldSpec("settlement_approved_on", ["ngày phê duyệt quyết toán"], .date),
            ], key: ["id"], checks: [
                dateOrder("allocated_on", "settlement_approved_on"),
                { row in
                    let shares = BudgetLevel.allCases.reduce(Int64(0)) { sum, level in
                        if case .integer(let v) = row["\(level.rawValue)_vnd"] { return sum + v } else { return sum }
                    }
                    guard case .integer(let total) = row["total_vnd"], shares != total else { return nil }
                    return ("total_vnd", LocalizedText(
                        vi: "tổng các nguồn vốn (\(shares)) khác tổng mức (\(total))",
                        en: "the budget shares add up to \(shares), not the total \(total)"))
                },
            ])
        case .disbursements:
            return KindSpec(fields: [
                FieldSpec("project_id", ["mã dự án"], .reference(table: "projects"), required: true),
                FieldSpec("budget_level", ["nguồn vốn"], .choice(budgetLevels), required: true),
                FieldSpec("on_date", ["ngày", "date"], .date, required: true),
                FieldSpec("cumulative_vnd", ["lũy kế giải ngân"], .amount, required: true),
            ], key: ["project_id", "budget_level", "on_date"], checks: [])
        case .debts:
            return KindSpec(fields: [
                FieldSpec("project_id", ["mã dự án"], .reference(table: "projects"), required: true),
                FieldSpec("budget_level", ["nguồn vốn"], .choice(budgetLevels), required: true),
                FieldSpec("period", ["giai đoạn"], .choice(["2016-2020", "2021-2025"]), required: true),
                FieldSpec("as_of", ["ngày số liệu", "date"], .date, required: true),
                FieldSpec("outstanding_vnd", ["nợ đọng", "số nợ"], .amount, required: true),
            ], key: ["project_id", "budget_level", "period", "as_of"], checks: [])
        case .repaymentPlans:
            return KindSpec(fields: [
                FieldSpec("project_id", ["mã dự án"], .reference(table: "projects"), required: true),
                FieldSpec("amount_vnd", ["số tiền"], .amount, required: true),
                FieldSpec("planned_by", ["trả nợ trước ngày"], .date),
                FieldSpec("approved_on", ["ngày phê duyệt"], .date),
            ], key: ["project_id"], checks: [])
        case .capitalPlans:
            return KindSpec(fields: [
                FieldSpec("id", ["mã kế hoạch vốn"], .text, required: true),
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("project_id", ["mã dự án"], .reference(table: "projects")),
                FieldSpec("year", ["năm"], .integer(years), required: true),
                FieldSpec("source", ["nguồn vốn"], .choice(budgetLevels), required: true),
                FieldSpec("assigned_vnd", ["vốn giao"], .amount, required: true),
                FieldSpec("carried_over_from", ["chuyển từ năm"], .integer(years)),
                FieldSpec("due_on", ["giải ngân trước ngày"], .date),
            ], key: ["id"], checks: [])
        case .capitalDisbursements:
            return KindSpec(fields: [
                FieldSpec("plan_id", ["mã kế hoạch vốn"], .reference(table: "capital_plans"), required: true),
                FieldSpec("on_date", ["ngày", "date"], .date, required: true),
                FieldSpec("cumulative_vnd", ["lũy kế giải ngân"], .amount, required: true),
            ], key: ["plan_id", "on_date"], checks: [])
        case .reallocationReports:
            return KindSpec(fields: [
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("year", ["năm"], .integer(years), required: true),
                FieldSpec("filed_on", ["ngày gửi"], .date, required: true),
            ], key: ["unit_id", "year"], checks: [])
        case .surveys:
            return KindSpec(fields: [
                FieldSpec("id", ["mã khảo sát"], .text, required: true),
                FieldSpec("unit_id", unitAliases, .unit, required: true),
                FieldSpec("surveyed_on", ["ngày khảo sát"], .date, required: true),
                FieldSpec("kind", ["loại khảo sát"], .choice(["ntm_results", "admin_procedures"]), required: true),
                FieldSpec("respondents", ["số người được hỏi"], .integer(0...10_000_000), required: true),
                FieldSpec("satisfied", ["số người hài lòng"], .integer(0...10_000_000), required: true),
            ], key: ["id"], checks: [
                notAfterToday("surveyed_on"),
                { row in
                    row["respondents"] == .integer(0)
                        ? ("respondents", LocalizedText(vi: "khảo sát không có người trả lời", en: "a survey with zero respondents"))
                        : nil
                },
                { row in
                    guard case .integer(let respondents) = row["respondents"], case .integer(let satisfied) = row["satisfied"],
                          satisfied > respondents else { return nil }
                    return ("satisfied", LocalizedText(
                        vi: "số người hài lòng (\(satisfied)) lớn hơn số người được hỏi (\(respondents))",
                        en: "more satisfied (\(satisfied)) than respondents (\(respondents))"))
                },
            ])
        case .targets:
            return KindSpec(fields: [
                FieldSpec("id", ["mã chỉ tiêu"], .text, required: true),
                FieldSpec("indicator", ["chỉ số"], .text, required: true),
                FieldSpec("title_vi", ["chỉ tiêu"], .text, required: true),
                FieldSpec("title_en", ["title"], .text, required: true),
                FieldSpec("target", ["mục tiêu"], .number(-1e15...1e15), required: true),
                FieldSpec("unit", ["đơn vị tính"], .text, required: true),
                FieldSpec("by_date", ["thời hạn", "by"], .date, required: true),
                FieldSpec("baseline", ["giá trị gốc"], .number(-1e15...1e15)),
                FieldSpec("baseline_on", ["ngày giá trị gốc"], .date),
                FieldSpec("source", ["nguồn"], .text),
                FieldSpec("unit_id", ["phạm vi", "scope", "mã đơn vị"], .unit),
            ], key: ["id"], checks: [percentAtMost100("target", unitColumn: "unit"), percentAtMost100("baseline", unitColumn: "unit")])
        }
    }

    static func dateOrder(_ earlier: String, _ later: String) -> RowCheck {
        { row in
            guard case .text(let a) = row[earlier], case .text(let b) = row[later], b < a else { return nil }
            return (later, LocalizedText(vi: "\(later) (\(b)) trước \(earlier) (\(a))", en: "\(later) (\(b)) is before \(earlier) (\(a))"))
        }
    }

    /// A fact that cannot be dated after the day it is imported (a survey already held). Checks
    /// read only what was known at their instant, so a mistyped year would otherwise hide the row.
    static func notAfterToday(_ column: String) -> RowCheck {
        { row in
            let today = CivilDate(Date())
            guard case .text(let text) = row[column], let date = CivilDate(text), date > today else { return nil }
            return (column, LocalizedText(vi: "ngày \(date.vietnamese) ở sau hôm nay (\(today.vietnamese))",
                                          en: "\(date) is after today (\(today))"))
        }
    }

    static func percentAtMost100(_ column: String, unitColumn: String) -> RowCheck {
        { row in
            guard row[unitColumn] == .text("%"), case .number(let rate) = row[column], rate > 100 || rate < 0 else { return nil }
            return (column, LocalizedText(vi: "tỷ lệ phải từ 0% đến 100%", en: "a rate must be from 0% to 100%"))
        }
    }
}
